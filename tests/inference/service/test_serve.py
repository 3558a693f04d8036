"""newsclf-serve: the real server on a loopback port, driven over HTTP (predict, explain, info, health,
batching, limits, errors, API key, SIGTERM)."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testkit.articles import CLAIMS
from testkit.processes import call, wait_ready
from testkit.tiny import pair_config

from inference import PredictOptions, Predictor
from inference.service.app import ServeSettings, build_app
from inference.service.request_parsing import Limits, json_depth
from inference.service.server import create_app, main, serve_in_background
from training.fitting.recipe import train

EXACT = PredictOptions(backend="torch", precision="fp32")

ARTICLE = {"title": "Bank raises rates", "content": "The bank raised interest rates. Markets fell. Wages stalled."}


def assert_same_results(served: Any, offline: Any) -> None:
    """Same labels and probabilities within float noise (JSON round trip, batch composition)."""
    if isinstance(offline, list):
        assert isinstance(served, list) and len(served) == len(offline)
        for one, other in zip(served, offline):
            assert_same_results(one, other)
        return
    assert set(served) == set(offline)
    for task, result in offline.items():
        assert served[task]["label"] == result["label"]
        assert served[task]["scores"] == pytest.approx(result["scores"], abs=1e-5)


@pytest.fixture(scope="module")
def offline(tiny_model_dir: Path) -> Predictor:
    return Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path):
    app = create_app(tiny_model_dir, options=EXACT, max_wait_ms=20, limits=Limits(max_articles=5))
    with serve_in_background(app) as url:
        wait_ready(url)
        yield url, app


def test_predict_answers_in_the_shape_of_the_input(server, offline: Predictor):
    url, _ = server
    status, one = call(url, "/predict", {"articles": ARTICLE})
    assert status == 200
    assert_same_results(one, offline.predict(ARTICLE))
    articles = ["Vaccine trial at the hospital", ARTICLE, {"content": "The team won the league."}]
    status, many = call(url, "/predict", {"articles": articles})
    assert status == 200
    assert_same_results(many, offline.predict(articles))


def test_concurrent_requests_share_forward_passes(server, offline: Predictor):
    url, app = server
    texts = [f"Match report {i}: the team scored a goal. Doctors at the clinic." for i in range(12)]
    before = app.state.batcher.batches
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda text: call(url, "/predict", {"articles": text}), texts))
    assert [status for status, _ in answers] == [200] * 12
    assert_same_results([result for _, result in answers], offline.predict(texts))
    assert app.state.batcher.batches - before < 12


def test_info_tells_tasks_labels_window_backend_and_metrics(server, offline: Predictor, tiny_model_dir: Path):
    status, info = call(server[0], "/info")
    assert status == 200
    assert [task["name"] for task in info["tasks"]] == offline.tasks
    assert all(task["labels"] == offline.labels(task["name"]) and task["kind"] == "single" for task in info["tasks"])
    assert info["window"]["strategy"] == "chunks" and info["backend"] == "torch-fp32"
    saved = json.loads((tiny_model_dir / "metrics.json").read_text())["splits"]
    assert info["metrics"] == saved and info["limits"]["max_articles"] == 5


def test_explain_gives_each_sentence_its_effect(server, offline: Predictor):
    url, _ = server
    task = offline.tasks[0]
    status, explanation = call(url, "/explain", {"article": ARTICLE, "task": task})
    assert status == 200
    assert explanation["task"] == task and explanation["predicted"] == offline.predict(ARTICLE)[task]["label"]
    texts = [sentence["text"] for sentence in explanation["sentences"]]
    assert texts == ["Bank raises rates", "The bank raised interest rates.", "Markets fell.", "Wages stalled."]
    assert all(isinstance(sentence["effect"], float) for sentence in explanation["sentences"])


BAD_REQUESTS = [
    # (path, raw body, status, field, words in the message)
    ("/predict", b'{"articles": ["a",]}', 400, "body", "line 1, column 19"),
    ("/predict", b"\xff\xfe", 400, "body", "UTF-8"),
    ("/predict", b'{"articles": ' + b"1" * 5000 + b"}", 400, "body", "4300 digits"),
    ("/predict", b'["a"]', 422, "body", "JSON object"),
    ("/predict", b"{}", 422, "articles", "missing"),
    ("/predict", b'{"articles": "a", "lang": "en"}', 422, "lang", "unknown field"),
    ("/predict", b'{"articles": ["a", 7]}', 422, "articles[1]", "a number"),
    ("/predict", b'{"articles": [{"title": "a", "body": "b"}]}', 422, "articles[0].body", "not a field"),
    ("/predict", b'{"articles": [{"title": 3}]}', 422, "articles[0].title", "a string or null"),
    ("/predict", b'{"articles": {"title": "  "}}', 422, "articles", "no text"),
    ("/predict", b'{"articles": []}', 422, "articles", "empty list"),
    ("/predict", json.dumps({"articles": ["a"] * 6}).encode(), 422, "articles", "at most 5"),
    ("/predict", json.dumps({"articles": "x" * 100_001}).encode(), 422, "articles", "at most 100000 per article"),
    ("/predict", b'{"articles": "a", "target": "claim"}', 422, "target", "takes no target"),
    ("/predict", b'{"articles": [{"content": "a", "target": "c"}]}', 422, "articles[0].target", "takes no target"),
    ("/explain", b'{"article": "a", "task": "weather"}', 422, "task", "unknown task"),
    ("/explain", b'{"article": "a", "label": "nope"}', 422, "label", "has no label"),
    ("/explain", json.dumps({"article": "Yes. " * 201}).encode(), 422, "article", "at most 200"),
]


@pytest.mark.parametrize(("path", "raw", "status", "field", "words"), BAD_REQUESTS)
def test_bad_requests_get_a_4xx_naming_the_field(server, path, raw, status, field, words):
    answer_status, answer = call(server[0], path, raw=raw)
    assert (answer_status, answer["field"]) == (status, field)
    assert words in answer["detail"] and answer["detail"].startswith(field)


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog``, with uvicorn's records too (a request's unhandled exception is its "Exception in ASGI
    application" with the traceback): its logger does not propagate to the root logger, where caplog listens."""
    uvicorn_log = logging.getLogger("uvicorn")
    propagates = uvicorn_log.propagate
    uvicorn_log.propagate = True
    try:
        yield caplog
    finally:
        uvicorn_log.propagate = propagates


def errors_logged(caplog: pytest.LogCaptureFixture, url: str) -> list[str]:
    """What the server logged at ERROR or above, or with a traceback, until now."""
    # uvicorn logs a request's exception just after its 500 went out: one more request lets it finish
    call(url, "/health")
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]


def nested(key: str, levels: int, inner: str = "") -> bytes:
    """``{key: [[...inner...]]}``: a JSON object whose brackets nest ``levels + 1`` deep."""
    return b'{"%s": %s%s%s}' % (key.encode(), b"[" * levels, inner.encode(), b"]" * levels)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\u00e9\ud83d\n'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a'), inner, max_size=3),
    max_leaves=12,
)


def parsed_depth(value: Any) -> int:
    if isinstance(value, (list, dict)):
        return 1 + max(map(parsed_depth, value.values() if isinstance(value, dict) else value), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_the_nesting_scan_agrees_with_the_parser(value: Any, ascii_only: bool):
    # strings full of brackets, quotes and backslashes: the scan must tell them from structure as a parser does
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json_depth(text.encode("utf-8", "surrogatepass")) == parsed_depth(value)


@pytest.mark.parametrize(("path", "key"), [("/predict", "articles"), ("/explain", "article")])
def test_json_nested_20000_deep_is_refused_before_parsing(server, logged, path: str, key: str):
    status, answer = call(server[0], path, raw=nested(key, 20_000))
    assert (status, answer["field"]) == (400, "body")
    assert "20001 levels" in answer["detail"] and f"at most {Limits().max_json_depth}" in answer["detail"]
    assert errors_logged(logged, server[0]) == []


def test_json_at_the_depth_limit_is_read_and_one_level_deeper_is_not(server, logged, offline: Predictor):
    limit = Limits().max_json_depth
    status, answer = call(server[0], "/predict", raw=nested("articles", limit - 1, '"a"'))
    assert (status, answer["field"]) == (422, "articles[0]") and "a list" in answer["detail"]  # parsed, then checked
    status, answer = call(server[0], "/predict", raw=nested("articles", limit, '"a"'))
    assert (status, answer["field"]) == (400, "body") and f"at most {limit}" in answer["detail"]
    assert call(server[0], "/info")[1]["limits"]["max_json_depth"] == limit
    assert errors_logged(logged, server[0]) == []
    with serve_in_background(create_app(offline, limits=Limits(max_json_depth=3))) as url:
        wait_ready(url)
        assert call(url, "/predict", {"articles": [ARTICLE]})[0] == 200  # 3 deep: {"articles": [{...}]}
        status, answer = call(url, "/predict", {"articles": [{"title": ["Bank raises rates"]}]})
        assert (status, answer["field"]) == (400, "body") and "4 levels deep; at most 3" in answer["detail"]
        assert errors_logged(logged, url) == []


def test_brackets_and_quotes_inside_strings_do_not_count_as_nesting(server, logged, offline: Predictor):
    # escaped quotes and backslashes before the brackets: a scan that lost track of the strings would count them
    article = {"title": 'He wrote \\"[[[{{ and left', "content": "[" * 20_000 + "{" * 20_000 + '"\\'}
    status, answer = call(server[0], "/predict", {"articles": [article]})
    assert status == 200
    assert_same_results(answer, offline.predict([article]))
    assert errors_logged(logged, server[0]) == []


def test_a_very_wide_array_is_refused_by_its_length(server, logged):
    status, answer = call(server[0], "/predict", {"articles": [[]] * 500_000})
    assert (status, answer["field"]) == (422, "articles") and "at most 5" in answer["detail"]
    just_under_the_size_limit = b'{"articles": [' + b"0," * (Limits().max_body_bytes // 2 - 10) + b"0]}"
    status, answer = call(server[0], "/predict", raw=just_under_the_size_limit)
    assert (status, answer["field"]) == (422, "articles") and "at most 5" in answer["detail"]
    assert errors_logged(logged, server[0]) == []


def test_lone_surrogates_are_answered_as_escapes(server, logged):
    # a broken emoji ("\\ud83d" without its pair) is text the predictor reads; echoed back, it stays an escape
    article = json.loads('"Broken emoji \\ud83d here. Markets fell."')
    status, answer = call(server[0], "/explain", raw=json.dumps({"article": article}).encode())
    assert status == 200 and answer["sentences"][0]["text"] == "Broken emoji \ud83d here."
    status, answer = call(server[0], "/predict", raw=b'{"articles": "a", "\\udc00": 1}')
    assert (status, answer["field"]) == (422, "\udc00") and "unknown field" in answer["detail"]
    assert errors_logged(logged, server[0]) == []


def test_a_depth_limit_the_parser_could_not_take_is_refused(tmp_path: Path, capsys):
    with pytest.raises(ValueError, match="max_json_depth must be at most 256"):
        Limits(max_json_depth=20_000)
    assert main(["--model", str(tmp_path), "--max-json-depth", "20000"]) == 2
    assert "max_json_depth" in capsys.readouterr().err


def test_a_body_over_the_limit_is_refused_with_413(tiny_model_dir: Path):
    app = create_app(tiny_model_dir, options=EXACT, limits=Limits(max_body_bytes=1000))
    with serve_in_background(app) as url:
        wait_ready(url)
        status, answer = call(url, "/predict", {"articles": "word " * 400})
        assert status == 413 and "1000 bytes" in answer["detail"]
        with socket.create_connection((url.split("//")[1].split(":")[0], int(url.rsplit(":", 1)[1]))) as raw:
            # chunked: no Content-Length to check up front; the limit applies as the body streams in
            chunk = b"x" * 800
            head = b"POST /predict HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            raw.sendall(head + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 2 + b"0\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.1 413")
        assert call(url, "/predict", {"articles": "short"})[0] == 200


def test_an_api_key_guards_the_api_but_not_health_or_page(tiny_model_dir: Path):
    app = create_app(tiny_model_dir, options=EXACT, api_key="s3cret")
    with serve_in_background(app) as url:
        wait_ready(url)
        for path, body in (("/predict", {"articles": "a"}), ("/explain", {"article": "a"}), ("/info", None)):
            assert call(url, path, body)[0] == 401
            assert call(url, path, body, headers={"Authorization": "Bearer wrong"})[0] == 401
            assert call(url, path, body, headers={"Authorization": "Bearer s3cret"})[0] == 200
        assert call(url, "/info", headers={"X-API-Key": "s3cret"})[0] == 200
        assert call(url, "/health")[0] == 200 and call(url, "/")[0] == 200


def test_health_and_routes_answer_503_until_the_model_is_loaded(offline: Predictor):
    loaded = threading.Event()

    def load() -> Predictor:
        loaded.wait(30)
        return offline

    with serve_in_background(build_app(load, None, ServeSettings())) as url:
        status, health = call(url, "/health")
        assert (status, health["status"]) == (503, "loading")
        assert call(url, "/predict", {"articles": "a"})[0] == 503
        loaded.set()
        wait_ready(url)
        assert call(url, "/predict", {"articles": "a"})[0] == 200


def test_a_server_in_the_background_leaves_the_callers_logging_alone(offline: Predictor, tmp_path: Path):
    """A notebook's own log handlers (or a run's train.log) stay open and in place while a server runs beside them."""
    mine = logging.getLogger("notebook")
    handler = logging.FileHandler(tmp_path / "notebook.log", encoding="utf-8")
    mine.addHandler(handler)
    root_handlers = logging.getLogger().handlers[:]
    try:
        with serve_in_background(build_app(lambda: offline, None, ServeSettings())) as url:
            wait_ready(url)
            assert handler.stream is not None and not handler.stream.closed  # uvicorn's setup closed it
            mine.warning("while serving")
        assert mine.handlers == [handler] and logging.getLogger().handlers == root_handlers
    finally:
        mine.removeHandler(handler)
        handler.close()
    assert "while serving" in (tmp_path / "notebook.log").read_text()


def test_a_model_that_fails_to_load_is_reported_by_health(offline: Predictor):
    def load() -> Predictor:
        raise OSError("disk gone")

    with serve_in_background(build_app(load, None, ServeSettings())) as url:
        deadline = time.monotonic() + 10
        while call(url, "/health")[1]["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.02)
        status, health = call(url, "/health")
        assert (status, health["status"]) == (503, "failed") and "disk gone" in health["detail"]
        assert "disk gone" in call(url, "/info")[1]["detail"]


def test_the_page_and_its_assets_are_served_from_the_app(server):
    url, _ = server
    status, page = call(url, "/")
    assert status == 200 and "static/page.js" in page and "static/page.css" in page
    for asset in ("static/page.js", "static/page.css"):
        status, text = call(url, "/" + asset)
        assert status == 200 and "://" not in text  # nothing fetched from elsewhere: it works offline
    assert "/predict" in call(url, "/openapi.json")[1]["paths"]
    status, docs = call(url, "/docs")
    assert status == 200 and "://" not in docs  # Swagger UI from the app too
    scripts = [part.split('"')[0] for part in docs.split('src="')[1:]]
    assert scripts and all(call(url, script)[0] == 200 for script in scripts)


def test_pair_models_read_targets(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path):
    folder = train(pair_config(tmp_path_factory.mktemp("serve-pair"), tiny_encoder_dir)) / "model"
    offline = Predictor.from_pretrained(folder, backend="torch", precision="fp32")
    with serve_in_background(create_app(offline)) as url:
        wait_ready(url)
        body = "Reports confirm the bank raised rates."
        status, answer = call(url, "/predict", {"articles": body})
        assert (status, answer["field"]) == (422, "articles.target")
        status, answer = call(url, "/predict", {"articles": [body, body], "target": CLAIMS[:2]})
        assert status == 200
        assert_same_results(answer, offline.predict([body, body], target=CLAIMS[:2]))
        status, answer = call(url, "/predict", {"articles": {"content": body, "target": CLAIMS[0]}})
        assert_same_results(answer, offline.predict(body, target=CLAIMS[0]))
        status, answer = call(url, "/explain", {"article": {"content": body, "target": CLAIMS[0]}})
        assert status == 200 and answer["task"] == "stance"
        assert call(url, "/explain", {"article": body})[1]["field"] == "article.target"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_command(model: Path, *options: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """``newsclf-serve`` on ``model`` (fp32 torch) as a process of its own, ready; yields it and its URL."""
    port = free_port()
    command = [sys.executable, "-m", "inference.service.server", "--model", str(model), "--port", str(port)]
    command += ["--backend", "torch", "--precision", "fp32", "--log-level", "warning", *options]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        yield server, url
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()


def test_sigterm_lets_the_request_in_flight_finish(tiny_model_dir: Path):
    with serve_command(tiny_model_dir, "--max-wait-ms", "1500") as (server, url):
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(call, url, "/predict", {"articles": ARTICLE})  # waits 1.5 s for company
            time.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            status, result = answer.result(timeout=30)
        assert status == 200 and set(result) == set(Predictor.from_pretrained(tiny_model_dir).tasks)
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it is done


def test_the_command_refuses_a_missing_model_before_serving(tmp_path: Path, capsys):
    assert main(["--model", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.is_file() else []


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts worker processes through /proc")
def test_several_workers_each_answer_as_the_model_does_and_all_stop_on_sigterm(tiny_model_dir: Path):
    with serve_command(tiny_model_dir, "--workers", "2") as (server, url):
        children = _children(server.pid)
        workers = [child for child in children if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text()]
        assert len(workers) == 2
        articles = [{**ARTICLE, "title": f"{ARTICLE['title']} {n}"} for n in range(12)]
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda article: call(url, "/predict", {"articles": article}), articles))
        expected = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32").predict(articles)
        assert [status for status, _ in answers] == [200] * len(articles)
        for (_, got), want in zip(answers, expected):
            assert {task: got[task]["label"] for task in want} == {task: want[task]["label"] for task in want}
            for task in want:
                assert got[task]["score"] == pytest.approx(want[task]["score"], abs=1e-4)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        assert not [worker for worker in workers if Path(f"/proc/{worker}").exists()]  # no worker left behind


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_below_one_are_refused_before_serving(tiny_model_dir: Path, capsys, workers: str):
    assert main(["--model", str(tiny_model_dir), "--workers", workers]) == 2
    assert f"--workers must be 1 or more, got {workers}" in capsys.readouterr().err


def test_several_workers_refuse_a_missing_model_before_any_starts(tmp_path: Path, capsys):
    assert main(["--model", str(tmp_path / "nowhere"), "--workers", "2"]) == 2
    assert "nowhere" in capsys.readouterr().err
