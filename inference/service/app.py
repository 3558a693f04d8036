"""The HTTP service of a model folder, a FastAPI app: routes, limits, the API key and the page.

Build it with :func:`inference.service.server.create_app` (or run ``newsclf-serve``); this module needs the
``serve`` extra (FastAPI, uvicorn).

    POST /predict   {"articles": ARTICLE | [ARTICLE, ...], "target": ...}  -> what Predictor.predict returns
    POST /explain   {"article": ARTICLE, "task": ..., "label": ...}        -> each sentence's effect
    GET  /info      tasks, labels, windowing, backend, limits, the model card's metrics
    GET  /health    200 once the model is loaded, 503 before (or if it could not be loaded)
    GET  /          a page to try the model; /docs the OpenAPI documentation (both work offline)

An ARTICLE is a string or ``{"title": ..., "content": ..., "target": ...}``.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, WithJsonSchema
from starlette.exceptions import HTTPException

from ..model.folder_layout import METRICS_FILE
from ..model.windowing import ARTICLE_FIELDS, TARGET_FIELD
from ..prediction.explain import explain
from ..prediction.predictor import Predictor
from .dynamic_batcher import DynamicBatcher
from .request_parsing import Limits, RequestError, read_explain_request, read_json, read_predict_request

PAGE = Path(__file__).with_name("page")
log = logging.getLogger("newsclf.serve")


@dataclass
class ServeSettings:
    """How the service batches, what it accepts and who may call it."""

    limits: Limits = field(default_factory=Limits)
    max_batch: int = 32
    """Most articles per forward pass gathered from concurrent requests."""
    max_wait_ms: float = 0.0
    """How long a request may wait for others to share its forward pass."""
    api_key: str | None = None
    """When set, ``/predict``, ``/explain`` and ``/info`` need ``Authorization: Bearer <key>`` or ``X-API-Key``."""


class JSONAnswer(JSONResponse):
    """JSON in UTF-8, except an answer holding a lone surrogate (half an emoji, read from a ``\\ud83d`` escape and
    echoed back by ``/explain`` or an error message), which UTF-8 cannot encode: that one is all ``\\u`` escapes."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


class _Model:
    """The predictor, loaded in a thread while the server already answers ``/health`` with 503."""

    def __init__(self, load: Callable[[], Predictor], folder: Path | None) -> None:
        self.folder = folder
        self.predictor: Predictor | None = None
        self.error: str | None = None
        self.metrics = _card_metrics(folder)
        self._load = load
        self._thread = threading.Thread(target=self._run, name="newsclf-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.predictor = self._load()
            log.info("model loaded: %s (%s)", self.folder, self.predictor.backend_name)
        except Exception as error:  # reported by /health and every route
            self.error = f"{type(error).__name__}: {error}"
            log.error("the model could not be loaded: %s", self.error)

    def ready(self) -> Predictor:
        if self.predictor is None:
            message = f"the model could not be loaded: {self.error}" if self.error else "the model is still loading"
            raise HTTPException(503, message, headers=None if self.error else {"Retry-After": "1"})
        return self.predictor


_TEXT_OR_NULL = {"anyOf": [{"type": "string"}, {"type": "null"}]}
ArticleObject = Annotated[
    dict[str, str | None],
    # spelled out (inline, not a $defs reference: the body schema is placed in the document by hand)
    WithJsonSchema(
        {
            "type": "object",
            "description": "the text fields the model reads (title, content), and a pair task's target",
            "properties": {name: _TEXT_OR_NULL for name in (*ARTICLE_FIELDS, TARGET_FIELD)},
            "additionalProperties": _TEXT_OR_NULL,
        }
    ),
]


class PredictBody(BaseModel):
    """``/predict``: one article or a list (a string or an object of text fields), targets for pair tasks."""

    model_config = ConfigDict(
        extra="forbid",  # as the route's own checks do
        json_schema_extra={
            "examples": [
                {"articles": "The Senate passed the budget bill on Tuesday."},
                {"articles": [{"title": "Fed raises rates", "content": "The central bank raised rates."}]},
                {"articles": {"content": "Officials denied the report."}, "target": "Spider burrowed into tourist"},
            ]
        },
    )
    articles: str | ArticleObject | list[str | ArticleObject]
    target: str | list[str] | None = None


class ExplainBody(BaseModel):
    """``/explain``: one article, the task (default: the first) and the label (default: the predicted one)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"article": "Rates rose. Markets fell.", "task": "topic"}]}
    )
    article: str | ArticleObject
    task: str | None = None
    label: str | None = None


# The answers, as the OpenAPI document declares them (for clients and the schema fuzzer in
# tests/inference/service/test_serve_schema.py); the routes build their answers themselves, so these only describe them.
_ANSWER = ConfigDict(extra="forbid")


class ErrorAnswer(BaseModel):
    """A refused request: what was wrong, and the JSON field at fault (``body`` for the body as a whole)."""

    model_config = _ANSWER
    detail: str
    field: str | None = None
    """Absent for 401 and 503, which are not about a field."""


class TaskPrediction(BaseModel):
    model_config = _ANSWER
    label: str
    score: float
    """The label's probability."""
    scores: dict[str, float]
    """Every label's probability."""


Prediction = dict[str, TaskPrediction]
"""One article's prediction: each task's."""


class SentenceAnswer(BaseModel):
    model_config = _ANSWER
    field: str
    index: int
    text: str
    score_without: float
    effect: float


class ExplainAnswer(BaseModel):
    model_config = _ANSWER
    task: str
    label: str
    score: float
    predicted: str
    sentences: list[SentenceAnswer]


class TaskInfo(BaseModel):
    model_config = _ANSWER
    name: str
    kind: Literal["single", "pair"]
    labels: list[str]


class InfoAnswer(BaseModel):
    model_config = _ANSWER
    tasks: list[TaskInfo]
    text_fields: list[str]
    window: dict[str, Any]
    backend: str
    metrics: dict[str, Any] | None
    limits: dict[str, int]
    batching: dict[str, float]
    api_key_required: bool


class HealthAnswer(BaseModel):
    model_config = _ANSWER
    status: Literal["ready", "loading", "failed"]
    backend: str | None = None
    """Once ready: the backend and number format the model runs with."""
    detail: str | None = None
    """Once failed: why the model could not be loaded."""


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The declared error answers of a route: all ``{"detail": ..., "field": ...}``."""
    meanings = {
        400: "the body is not JSON, not UTF-8, or nested deeper than max_json_depth",
        401: "the service needs an API key and none or a wrong one was given",
        413: "the body is over max_body_bytes",
        422: "the JSON does not fit the request, or a request limit is exceeded",
        503: "the model is still loading, or could not be loaded",
    }
    return {status: {"model": ErrorAnswer, "description": meanings[status]} for status in statuses}


def _answers(model: Any, description: str, *errors: int) -> dict[str, Any]:
    """A route's declared answers (its 200 and ``errors``); the route's own return type is left out of them."""
    return {
        "response_model": None,
        "responses": {200: {"model": model, "description": description}, **_errors(*errors)},
    }


def build_app(load: Callable[[], Predictor], folder: Path | None, settings: ServeSettings) -> FastAPI:
    """The app; ``load`` builds the predictor (in a thread, once the app starts)."""
    model = _Model(load, folder)
    batcher = DynamicBatcher(_predict_items(model), settings.max_batch, settings.max_wait_ms)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        model.start()
        await batcher.start()
        yield
        await batcher.stop()  # uvicorn has let the requests in flight finish by now

    app = FastAPIOffline(  # /docs with Swagger UI's files served by the app, not a CDN
        default_response_class=JSONAnswer,
        title="newsclf",
        summary="Topic, leaning and stance of news articles, from one model folder",
        lifespan=lifespan,
    )
    app.state.model, app.state.batcher, app.state.settings = model, batcher, settings
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.limits.max_body_bytes)
    authorized = Depends(_key_checker(settings.api_key))
    _add_model_routes(app, model, batcher, settings, authorized)
    _add_service_routes(app, model, settings, authorized)
    app.mount("/static", StaticFiles(directory=PAGE), name="static")
    return app


def _add_model_routes(
    app: FastAPI, model: _Model, batcher: DynamicBatcher, settings: ServeSettings, authorized: Any
) -> None:
    """``/predict`` and ``/explain``: they read their JSON themselves, after checking its size and nesting."""
    limits = settings.limits
    body_errors = (400, 401, 413, 422, 503)

    @app.post(
        "/predict",
        dependencies=[authorized],
        openapi_extra=_body_schema(PredictBody),
        **_answers(Prediction | list[Prediction], "one result per article, or one for one", *body_errors),
    )
    async def predict(request: Request) -> Any:
        """Each task's label, its probability and every label's probability, in the shape of the input."""
        predictor = model.ready()
        parsed = read_predict_request(read_json(await request.body(), limits), predictor, limits)
        key = parsed.targets[0] is not None
        results = await batcher.submit(list(zip(parsed.articles, parsed.targets)), key)
        # already JSON's types (str, float, dict, list): answered as they are, since FastAPI's jsonable_encoder walking
        # every label's score took a third of the event loop's time under load (docs/speed.md)
        return JSONAnswer(results[0] if parsed.single else results)

    @app.post(
        "/explain",
        dependencies=[authorized],
        openapi_extra=_body_schema(ExplainBody),
        **_answers(ExplainAnswer, "each sentence's effect", *body_errors),
    )
    async def explain_article(request: Request) -> Any:
        """Which sentences moved the prediction: each one's effect on the label's probability when left out."""
        predictor = model.ready()
        article, task, label = read_explain_request(read_json(await request.body(), limits), predictor, limits)
        try:
            result = await batcher.run(explain, predictor, article, task, label, limits.max_explain_sentences)
        except ValueError as error:
            raise RequestError("article", str(error)) from None
        return {
            **{key: value for key, value in vars(result).items() if key != "sentences"},
            "sentences": result.as_rows(),
        }


def _add_service_routes(app: FastAPI, model: _Model, settings: ServeSettings, authorized: Any) -> None:
    """``/info``, ``/health`` and the page."""

    @app.get("/info", dependencies=[authorized], **_answers(InfoAnswer, "the model and the service", 401, 503))
    async def info() -> dict[str, Any]:
        """What the model predicts from what, how it was scored, and what the service accepts."""
        predictor = model.ready()
        kinds = {name: kind for kind in ("single", "pair") for name in predictor.config.tasks_of_kind(kind)}
        return {
            "tasks": [{"name": t, "kind": kinds[t], "labels": predictor.labels(t)} for t in predictor.tasks],
            "text_fields": predictor.text_fields,
            "window": predictor.window.to_dict(),
            "backend": predictor.backend_name,
            "metrics": model.metrics,
            "limits": asdict(settings.limits),
            "batching": {"max_batch": settings.max_batch, "max_wait_ms": settings.max_wait_ms},
            "api_key_required": settings.api_key is not None,
        }

    ready = {"model": HealthAnswer, "description": "the model is loaded"}
    not_ready = {"model": HealthAnswer, "description": "the model is loading, or could not be loaded"}

    @app.get("/health", response_model=None, responses={200: ready, 503: not_ready})
    async def health() -> JSONAnswer:
        """``ready`` once the model is loaded; 503 while it loads or when it failed to."""
        if model.predictor is not None:
            return JSONAnswer({"status": "ready", "backend": model.predictor.backend_name})
        status = "failed" if model.error else "loading"
        return JSONAnswer({"status": status, "detail": model.error}, status_code=503)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(PAGE / "index.html")


def _predict_items(model: _Model) -> Callable[[list], list]:
    """What the batcher computes: ``(article, target)`` pairs (all with a target, or none) -> results."""

    def predict_items(items: list) -> list:
        articles = [article for article, _ in items]
        targets = [target for _, target in items]
        results = model.ready().predict(articles, target=None if targets[0] is None else targets)
        assert isinstance(results, list)  # a list in, a list out
        return results

    return predict_items


def _key_checker(api_key: str | None) -> Callable[[Request], Awaitable[None]]:
    # async, though it awaits nothing: FastAPI runs a plain function dependency in a worker thread, a thread hop
    # for every request (32 clients kept ~30 of them waking under load)
    async def check_key(request: Request) -> None:
        if api_key is None:
            return
        given = request.headers.get("x-api-key") or ""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            given = given or token.strip()
        if not secrets.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(401, "a valid API key is needed", headers={"WWW-Authenticate": "Bearer"})

    return check_key


def _add_error_handlers(app: FastAPI) -> None:
    """Errors as ``{"detail": message, "field": name}``; a client's mistake is never a 500."""

    @app.exception_handler(RequestError)
    async def request_error(request: Request, error: RequestError) -> JSONAnswer:
        return JSONAnswer({"detail": str(error), "field": error.field}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONAnswer:
        problems = error.errors()
        where = ".".join(str(part) for part in problems[0]["loc"][1:]) if problems else "request"
        detail = f"{where}: {problems[0]['msg']}" if problems else "invalid request"
        return JSONAnswer({"detail": detail, "field": where}, status_code=422)

    @app.exception_handler(ValueError)
    async def value_error(request: Request, error: ValueError) -> JSONAnswer:
        # Predictor refuses what the request checks did not foresee; still the client's input
        return JSONAnswer({"detail": str(error), "field": "articles"}, status_code=422)


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413, by its Content-Length or as it streams in."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and not length.isdigit():
            await _send_error(RequestError("body", "Content-Length is not a number", 400), send)
            return
        if length is not None and int(length) > self.limit:
            await _send_error(RequestError("body", f"over the limit of {self.limit} bytes", 413), send)
            return
        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise RequestError("body", f"over the limit of {self.limit} bytes", 413)
            return message

        await self.app(scope, limited_receive, send)


async def _send_error(error: RequestError, send: Callable) -> None:
    body = json.dumps({"detail": str(error), "field": error.field}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads and checks its JSON itself (for clearer errors)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _card_metrics(folder: Path | None) -> dict[str, Any] | None:
    """The scores of the model card: ``metrics.json``'s splits, when the folder has one."""
    path = None if folder is None else folder / METRICS_FILE
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("splits")
