"""The HTTP API fuzzed from its own OpenAPI document with schemathesis, in process (ASGI, no socket).

Each operation (``POST /predict``, ``POST /explain``, ``GET /info``, ``GET /health``) gets the examples of its
schema, requests that fit its schema (positive) and, where it takes a body, requests that do not (negative:
wrong types, missing fields, bytes that are not JSON). Every answer must be no 5xx, with a status code the
document declares, the declared content type and a body that fits the declared schema. Hypothesis runs
derandomized with a fixed number of examples, so each run sends the same requests.

schemathesis's own pytest integration (``schemathesis.pytest.from_fixture``) fails on pytest 9.2, so the test
drives its Hypothesis strategies itself.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from inference import Predictor
from inference.service.request_parsing import Limits
from inference.service.server import create_app

MAX_EXAMPLES = 50
"""Requests per operation and kind (examples, positive, negative); fewer where the schema allows fewer."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATIONS = [
    ("POST", "/predict", "examples"),
    ("POST", "/predict", "positive"),
    ("POST", "/predict", "negative"),
    ("POST", "/explain", "examples"),
    ("POST", "/explain", "positive"),
    ("POST", "/explain", "negative"),
    ("GET", "/info", "positive"),  # no parameters and no body: one request, nothing to make invalid
    ("GET", "/health", "positive"),
]


@pytest.fixture(scope="module")
def predictor(tiny_model_dir: Path) -> Predictor:
    return Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")


@pytest.fixture
def api_schema(predictor: Predictor) -> schemathesis.BaseSchema:
    """The document of a fresh app, read from the app itself, once the app has its model.

    Loading it starts the app's lifespan (and so the model's loading thread); schemathesis's pytest plugin
    ends the lifespan when the test ends.
    """
    # small limits keep each request cheap, and let the fuzzer reach them
    app = create_app(predictor, max_wait_ms=0, limits=Limits(max_articles=4, max_explain_sentences=6))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == {f"{method} {path}" for method, path, _ in OPERATIONS}
    health = schema["/health"]["GET"]
    deadline = time.monotonic() + 30
    while health.Case().call().status_code != 200:
        assert time.monotonic() < deadline, "the app never became ready"
        time.sleep(0.01)
    return schema


def requests_of(operation: schemathesis.APIOperation, kind: str) -> st.SearchStrategy[schemathesis.Case]:
    if kind == "examples":
        return st.one_of(operation.get_strategies_from_examples())
    return operation.as_strategy(GenerationMode.POSITIVE if kind == "positive" else GenerationMode.NEGATIVE)


@pytest.mark.parametrize(("method", "path", "kind"), OPERATIONS)
def test_every_answer_is_declared_by_the_schema_and_none_is_a_5xx(
    api_schema, caplog: pytest.LogCaptureFixture, method: str, path: str, kind: str
):
    operation = api_schema[path][method]
    statuses: Counter[int] = Counter()

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(case=requests_of(operation, kind))
    def send(case: schemathesis.Case) -> None:
        statuses[case.call_and_validate(checks=CHECKS).status_code] += 1

    send()
    sent = sum(statuses.values())
    print(f"{method} {path} {kind}: {sent} requests, statuses {dict(sorted(statuses.items()))}")  # shown with -s
    if method == "POST" and kind != "examples":
        assert sent >= MAX_EXAMPLES // 2, f"only {sent} requests: the generator gave up on most"
    if kind != "negative":
        assert 200 in statuses, "no request got through: only refusals were tested"
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
