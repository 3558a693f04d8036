"""Load test of ``newsclf-serve`` on 127.0.0.1 against the offline ``Predictor`` on the same articles.

    python benchmarks/serve.py --model runs/latest/model --output docs/speed.md
    python benchmarks/serve.py --model runs/latest/model --clients 32 --requests 8 --single 50
    python benchmarks/serve.py --model runs/latest/model --screenshot docs/serve-page.png --clients 0  # the page only

Real AllSides articles (``$NEWSCLF_DATA`` or ``../shared/data``). In one run: the offline Predictor's
articles/s over them in one call (the ceiling), then the real server in its own process, loaded by
``--clients`` concurrent clients each sending ``--requests`` requests of one article, once with dynamic
batching and once with ``--max-batch 1`` (one request, one forward pass: what a plain server does), then
one client sending ``--single`` requests one after another (latency of a lone request). The clients
share the machine's cores with the server, as they would on one host. The whole is repeated ``--rounds`` times,
the offline rate measured in each round, and every share of offline and ratio is the median of the rounds' own
(on a shared virtual machine the offline rate alone moved 91-142 articles/s between runs minutes apart).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from common import describe_machine, publish

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEWSCLF_DATA", ROOT.parent / "shared" / "data"))
BEGIN, END = "<!-- serve:begin -->", "<!-- serve:end -->"


def allsides_articles(count: int) -> list[dict[str, str]]:
    """The first ``count`` AllSides articles with a body, as ``{title, content}``."""
    path = DATA / "allsides" / "articles.jsonl.gz"
    if not path.is_file():
        raise SystemExit(f"{path}: not found; set NEWSCLF_DATA to the shared data folder")
    articles = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row.get("content"):
                articles.append({"title": row.get("title") or "", "content": row["content"]})
            if len(articles) == count:
                break
    return articles


def offline_speed(model: str, articles: list[dict], threads: int | None) -> tuple[float, str]:
    """Articles/s of the Predictor over every article in one call, after a warm-up, and its backend."""
    from inference import Predictor

    predictor = Predictor.from_pretrained(model, num_threads=threads)
    predictor.predict(articles[:32])
    started = time.perf_counter()
    predictor.predict(articles)
    return len(articles) / (time.perf_counter() - started), predictor.backend_name


def start_server(model: str, port: int, extra: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "inference.service.server", "--model", model, "--port", str(port)]
    server = subprocess.Popen([*command, "--log-level", "warning", *extra], cwd=ROOT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not become ready in 5 minutes")


def load(port: int, articles: list[dict], clients: int, requests: int) -> dict[str, Any]:
    """``clients`` threads, each on its own keep-alive connection, send ``requests`` one-article requests."""
    latencies: list[float] = []
    statuses: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for number in range(requests):
            article = articles[(index * requests + number) % len(articles)]
            body = json.dumps({"articles": article})
            started = time.perf_counter()
            try:
                connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError as error:
                status, connection = 0, http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    errors.append(str(error))
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses.append(status)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    milliseconds = 1000 * np.array(latencies)
    return {
        "articles_per_s": len(latencies) / seconds,
        "p50": float(np.percentile(milliseconds, 50)),
        "p95": float(np.percentile(milliseconds, 95)),
        "p99": float(np.percentile(milliseconds, 99)),
        "errors": len(errors) + sum(status != 200 for status in statuses),
        "5xx": sum(status >= 500 for status in statuses),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_server(args: argparse.Namespace, articles: list[dict], extra: list[str]) -> dict[str, dict[str, Any]]:
    port = free_port()
    server = start_server(args.model, port, extra)
    try:
        # warm-up with the load itself: a fresh process builds its kernels once for each batch size it meets
        load(port, articles, args.clients, args.requests)
        results = {"load": load(port, articles, args.clients, args.requests)}
        if args.single:
            results["single"] = load(port, articles, 1, args.single)
        return results
    finally:
        server.terminate()
        server.wait(timeout=60)


def screenshot(model: str, article: dict[str, str], path: Path) -> None:
    """The page, with ``article`` typed in and classified, as a PNG (headless Debian Chromium)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    server = start_server(model, port, [])
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1100,1400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        WebDriverWait(driver, 60).until(lambda d: "Tasks:" in d.find_element(By.ID, "model-info").text)
        driver.find_element(By.ID, "title").send_keys(article["title"])
        driver.find_element(By.ID, "content").send_keys(article["content"][:1500])
        driver.find_element(By.ID, "submit").click()
        WebDriverWait(driver, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#explanation .sentence"))
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1100, min(2400, height + 40))
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=60)


SERVERS = {"dynamic batching": [], "one request, one pass (--max-batch 1)": ["--max-batch", "1"]}
MEASURES = ("articles_per_s", "p50", "p95", "p99")


def measure_round(args: argparse.Namespace, articles: list[dict]) -> dict[str, Any]:
    """One round: the offline rate, then each server under load, then its lone client."""
    offline, backend = offline_speed(args.model, articles, args.threads)
    threads = [] if args.threads is None else ["--threads", str(args.threads)]
    workers = ["--workers", str(args.workers)]
    servers = {name: measure_server(args, articles, [*threads, *workers, *extra]) for name, extra in SERVERS.items()}
    return {"offline": offline, "backend": backend, "servers": servers}


def combined(rounds: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per server and kind of load: the median of each measure over the rounds, the median share of the round's
    offline rate, and the errors summed."""
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for name in SERVERS:
        rows[name] = {}
        for kind in rounds[0]["servers"][name]:
            results = [(r["servers"][name][kind], r["offline"]) for r in rounds]
            row = {measure: statistics.median(result[measure] for result, _ in results) for measure in MEASURES}
            row["share"] = statistics.median(result["articles_per_s"] / offline for result, offline in results)
            row["errors"] = sum(result["errors"] for result, _ in results)
            row["5xx"] = sum(result["5xx"] for result, _ in results)
            rows[name][kind] = row
    return rows


def targets(args: argparse.Namespace, rounds: list[dict[str, Any]], rows: dict[str, dict]) -> list[str]:
    batched, plain = rows["dynamic batching"], rows["one request, one pass (--max-batch 1)"]
    found = [f"{args.clients} concurrent clients ≥ 90% of offline: {100 * batched['load']['share']:.0f}%"]
    if "single" in batched and "single" in plain:
        ratio = statistics.median(
            r["servers"]["dynamic batching"]["single"]["p50"]
            / r["servers"]["one request, one pass (--max-batch 1)"]["single"]["p50"]
            for r in rounds
        )
        found.append(f"a lone client's p50 with batching ≤ 1.1× without: {ratio:.2f}×")
    return found


def report(args: argparse.Namespace, rounds: list[dict[str, Any]]) -> str:
    rows = combined(rounds)
    offline = [r["offline"] for r in rounds]
    lines = [
        "## newsclf-serve under load",
        "",
        f"Command: `python benchmarks/serve.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {describe_machine()}  ",
        f"Date: {date.today().isoformat()}  ",
        f"Model: `{args.model}` ({rounds[0]['backend']}); {args.articles} real AllSides articles; one host.",
        f"Offline Predictor, one call over all articles: {statistics.median(offline):.1f} articles/s, the ceiling",
        f"(median of {len(rounds)} rounds, {min(offline):.1f}-{max(offline):.1f}). Every figure is the median of the",
        'rounds; "of offline" is the median of each round\'s share of its own offline rate.',
        "",
        "| server | clients × requests | articles/s | of offline | p50 ms | p95 ms | p99 ms | errors | 5xx |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in rows.items():
        for kind, clients, requests in (("load", args.clients, args.requests), ("single", 1, args.single)):
            if kind in result:
                r = result[kind]
                lines.append(
                    f"| {name} | {clients} × {requests} | {r['articles_per_s']:.1f} | "
                    f"{100 * r['share']:.0f}% | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
                    f"{r['errors']} | {r['5xx']} |"
                )
    errors = sum(r["load"]["errors"] for r in rows.values())
    server_errors = sum(r["load"]["5xx"] for r in rows.values())
    found = "; ".join(targets(args, rounds, rows))
    lines += ["", f"Targets (issue 38): {found}; errors {errors}, 5xx {server_errors}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="runs/latest/model", help="model folder (make train writes one)")
    parser.add_argument("--articles", type=int, default=256, help="AllSides articles to send")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=8, help="requests per client, one article each")
    parser.add_argument("--single", type=int, default=50, help="requests of the lone client (0: none)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of the Predictor and the server")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (newsclf-serve --workers); offline is one process"
    )
    parser.add_argument("--rounds", type=int, default=3, help="offline and both servers measured this many times")
    parser.add_argument("--output", type=Path, help="markdown file whose serve section is replaced")
    parser.add_argument("--screenshot", type=Path, help="also save the page, an article classified, as this PNG")
    args = parser.parse_args(argv)
    if not (Path(args.model) / "config.json").is_file():
        raise SystemExit(f"{args.model}: no model folder; train one first (make train)")
    articles = allsides_articles(args.articles)
    if args.screenshot:
        screenshot(args.model, articles[0], args.screenshot)
        print(f"wrote {args.screenshot}")
    if args.clients < 1:
        return 0
    rounds = [measure_round(args, articles) for _ in range(args.rounds)]
    section = report(args, rounds)
    publish(section, args.output, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
