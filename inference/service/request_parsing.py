"""What an HTTP request may ask of a model, checked before any work: shapes, fields, targets and limits.

Every problem is a :class:`RequestError` that names the JSON field (``articles[2].content``) and
what was expected, so the service answers a client's mistake with a 4xx, never a 500.

>>> read_json(b'{"articles": "Senate passes the budget"}')
{'articles': 'Senate passes the budget'}
>>> read_json(b'{"articles": [1,]}')
Traceback (most recent call last):
...
inference.service.request_parsing.RequestError: body: malformed JSON at line 1, column 17: Expecting value
>>> read_json(b'{"articles": [[["a"]]]}', Limits(max_json_depth=3))
Traceback (most recent call last):
...
inference.service.request_parsing.RequestError: body: JSON nested 4 levels deep; at most 3 levels of objects and lists
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model.windowing import TARGET_FIELD, Article

if TYPE_CHECKING:
    from ..prediction.predictor import Predictor

MAX_JSON_DEPTH = 256
"""The most :attr:`Limits.max_json_depth` may allow: well inside Python's recursion limit of 1000."""


@dataclass(frozen=True)
class Limits:
    """What one request may hold; larger ones are refused (413 for the body's size, 400 for its nesting, 422 else)."""

    max_body_bytes: int = 4_000_000
    max_articles: int = 64
    """Articles per ``/predict`` request."""
    max_chars: int = 100_000
    """Characters per article, its fields and target together."""
    max_explain_sentences: int = 200
    """Sentences of an article sent to ``/explain`` (each costs one prediction)."""
    max_json_depth: int = 32
    """Objects and lists nested in one another in the body (a valid request needs 3); deeper is a 400."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {name} must be a positive whole number, got {value!r}")
        if self.max_json_depth > MAX_JSON_DEPTH:
            # json.loads recurses once per level and shares the interpreter's recursion limit with the server
            raise ValueError(f"limit max_json_depth must be at most {MAX_JSON_DEPTH}, got {self.max_json_depth}")


class RequestError(ValueError):
    """A client's mistake: ``status`` (400, 413 or 422), the JSON ``field`` at fault and what was wrong."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


@dataclass
class PredictRequest:
    single: bool
    """The body held one article rather than a list: the answer is one result, not a list."""
    articles: list[Article]
    targets: list[str | None]


def read_json(body: bytes, limits: Limits | None = None) -> Any:
    """The parsed body, or a 400 naming the line and column where the JSON breaks, or its nesting past the limit.

    The nesting is measured before parsing: :func:`json.loads` recurses once per level, and a body of a few
    thousand ``[`` would end in a ``RecursionError``.
    """
    max_depth = (limits or Limits()).max_json_depth
    depth = json_depth(body)
    if depth > max_depth:
        raise RequestError(
            "body", f"JSON nested {depth} levels deep; at most {max_depth} levels of objects and lists", 400
        )
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RequestError("body", f"not UTF-8 text (byte {error.start})", 400) from None
    except json.JSONDecodeError as error:
        raise RequestError(
            "body", f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}", 400
        ) from None
    except ValueError as error:  # a number of more than 4300 digits, say
        raise RequestError("body", f"unreadable JSON: {error}", 400) from None


_STEP = np.zeros(256, np.int8)  # what each byte does to the nesting depth
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


def json_depth(body: bytes) -> int:
    r"""How deeply the objects and lists of a JSON text nest, counted in a few linear passes, without recursion.

    Brackets inside strings do not count. On broken JSON it may differ from what a parser would find past
    the break, but a parser stops there, so it never goes deeper than this says.

    >>> json_depth(b'{"a": [1, {"b": "[[[\\"]]"}]}'), json_depth(b"7"), json_depth(b'"[[['), json_depth(b"[[")
    (3, 0, 0, 2)
    """
    # Backslashes pair up from the left, so once the escaped backslashes are gone, a backslash before a quote
    # escapes it; every quote left opens or closes a string (underscores keep the other bytes in place).
    plain = np.frombuffer(body.replace(b"\\\\", b"__").replace(b'\\"', b"__"), np.uint8)
    in_string = np.bitwise_xor.accumulate(plain == ord('"'))
    steps = _STEP[plain]
    steps[in_string] = 0
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))


def read_predict_request(body: Any, predictor: Predictor, limits: Limits) -> PredictRequest:
    """Checks a ``/predict`` body: ``{"articles": ARTICLE | [ARTICLE, ...], "target": TARGET | [TARGET, ...]}``."""
    _expect_object(body, ["articles", "target"], required=["articles"])
    single = not isinstance(body["articles"], list)
    given = [body["articles"]] if single else body["articles"]
    if not given:
        raise RequestError("articles", "an empty list: give at least one article")
    if len(given) > limits.max_articles:
        raise RequestError("articles", f"{len(given)} articles; at most {limits.max_articles} per request")
    fields = ["articles"] if single else [f"articles[{i}]" for i in range(len(given))]
    articles = [_article(value, field, predictor, limits) for value, field in zip(given, fields)]
    targets = _targets(body.get("target"), articles, single)
    from_request = body.get("target") is not None
    _check_targets(targets, ["target" if from_request else f"{field}.target" for field in fields], predictor)
    return PredictRequest(single, [_without_target(a) for a in articles], targets)


def read_explain_request(body: Any, predictor: Predictor, limits: Limits) -> tuple[Article, str, str | None]:
    """Checks an ``/explain`` body: ``{"article": ARTICLE, "task": NAME, "label": LABEL}`` (task and label optional)."""
    _expect_object(body, ["article", "task", "label"], required=["article"])
    article = _article(body["article"], "article", predictor, limits)
    task = body.get("task") or predictor.tasks[0]
    if task not in predictor.tasks:
        raise RequestError("task", f"unknown task {task!r}; the model's tasks are {predictor.tasks}")
    label = body.get("label")
    if label is not None and label not in predictor.labels(task):
        raise RequestError("label", f"task {task!r} has no label {label!r}; its labels are {predictor.labels(task)}")
    target = article.get(TARGET_FIELD) if isinstance(article, Mapping) else None
    if task in predictor.config.tasks_of_kind("pair") and target is None:
        raise RequestError("article.target", f"task {task!r} reads the article against a target: give one")
    if task not in predictor.config.tasks_of_kind("pair") and target is not None:
        raise RequestError("article.target", f"task {task!r} reads the article alone: leave the target out")
    return article, task, label


def _expect_object(body: Any, keys: list[str], required: list[str]) -> None:
    if not isinstance(body, dict):
        raise RequestError("body", f"expected a JSON object with {' and '.join(map(repr, keys))}, got {_kind(body)}")
    for key in body:
        if key not in keys:
            raise RequestError(str(key), f"unknown field; expected {', '.join(keys)}")
    for key in required:
        if key not in body:
            raise RequestError(key, "missing")


def _article(value: Any, field: str, predictor: Predictor, limits: Limits) -> Article:
    """A string, or an object of the model's text fields (and ``target``), checked for shape and length."""
    readable = list(predictor.text_fields)
    if isinstance(value, str):
        text_length = len(value.strip())
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in [*readable, TARGET_FIELD]:
                raise RequestError(f"{field}.{key}", f"not a field this model reads; it reads {readable} and target")
            if item is not None and not isinstance(item, str):
                raise RequestError(f"{field}.{key}", f"expected a string or null, got {_kind(item)}")
        text_length = sum(len((value.get(name) or "").strip()) for name in readable)
    else:
        raise RequestError(field, f"expected a string or an object with {readable}, got {_kind(value)}")
    if text_length == 0:
        raise RequestError(field, f"no text: give a non-empty string or one of {readable}")
    length = len(value) if isinstance(value, str) else sum(len(item or "") for item in value.values())
    if length > limits.max_chars:
        raise RequestError(field, f"{length} characters; at most {limits.max_chars} per article")
    return value


def _targets(target: Any, articles: list[Article], single: bool) -> list[str | None]:
    """One target (or ``None``) per article, from the request's ``target`` or each article's own."""
    own = [a.get(TARGET_FIELD) if isinstance(a, dict) else None for a in articles]
    if target is None:
        return own
    if any(t is not None for t in own):
        raise RequestError("target", "given both here and in an article: give one or the other")
    if isinstance(target, str):
        return [target] * len(articles)
    if single or not isinstance(target, list) or not all(isinstance(t, str) for t in target):
        expected = "a string" if single else "a string or a list of strings"
        raise RequestError("target", f"expected {expected}, got {_kind(target)}")
    if len(target) != len(articles):
        raise RequestError("target", f"{len(target)} targets for {len(articles)} articles: one, or one per article")
    return list(target)


def _check_targets(targets: list[str | None], fields: list[str], predictor: Predictor) -> None:
    """A target where the model scores pairs, none where it cannot, and all or none within one request
    (``fields``: where each article's target was, or would be, given)."""
    pair_tasks = predictor.config.tasks_of_kind("pair")
    with_target = [t is not None for t in targets]
    if not pair_tasks and any(with_target):
        raise RequestError(
            fields[with_target.index(True)], f"this model's tasks {predictor.tasks} read one text: it takes no target"
        )
    if pair_tasks and not all(with_target) and (any(with_target) or len(pair_tasks) == len(predictor.tasks)):
        raise RequestError(
            fields[with_target.index(False)],
            f"missing: this model scores each text against a target (tasks {pair_tasks}); give every article "
            "a target" + ("" if len(pair_tasks) == len(predictor.tasks) else ", or none to score only the others"),
        )


def _without_target(article: Article) -> Article:
    if isinstance(article, dict) and TARGET_FIELD in article:
        return {key: value for key, value in article.items() if key != TARGET_FIELD}
    return article


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)
