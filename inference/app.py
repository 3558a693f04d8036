"""The HTTP service of a model folder, a FastAPI app: routes, limits, the API key and the page.

Build it with :func:`inference.serve.create_app` (or run ``newsclf-serve``); this module needs the
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
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from .batching import DynamicBatcher
from .explain import explain
from .predictor import Predictor
from .service_input import Limits, RequestError, read_explain_request, read_json, read_predict_request

PAGE = Path(__file__).with_name("page")
log = logging.getLogger("newsclf.serve")


@dataclass
class ServeSettings:
    """How the service batches, what it accepts and who may call it."""

    limits: Limits = field(default_factory=Limits)
    max_batch: int = 32
    """Most articles per forward pass gathered from concurrent requests."""
    max_wait_ms: float = 5.0
    """How long a request may wait for others to share its forward pass."""
    api_key: str | None = None
    """When set, ``/predict``, ``/explain`` and ``/info`` need ``Authorization: Bearer <key>`` or ``X-API-Key``."""


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


class PredictBody(BaseModel):
    """``/predict``: one article or a list (a string or an object of text fields), targets for pair tasks."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"articles": "The Senate passed the budget bill on Tuesday."},
                {"articles": [{"title": "Fed raises rates", "content": "The central bank raised rates."}]},
                {"articles": {"content": "Officials denied the report."}, "target": "Spider burrowed into tourist"},
            ]
        }
    )
    articles: str | dict[str, str | None] | list[str | dict[str, str | None]]
    target: str | list[str] | None = None


class ExplainBody(BaseModel):
    """``/explain``: one article, the task (default: the first) and the label (default: the predicted one)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"article": "Rates rose. Markets fell.", "task": "topic"}]}
    )
    article: str | dict[str, str | None]
    task: str | None = None
    label: str | None = None


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
        title="newsclf",
        summary="Topic, leaning and stance of news articles, from one model folder",
        lifespan=lifespan,
    )
    app.state.model, app.state.batcher, app.state.settings = model, batcher, settings
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.limits.max_body_bytes)
    authorized = Depends(_key_checker(settings.api_key))

    @app.post("/predict", dependencies=[authorized], openapi_extra=_body_schema(PredictBody))
    async def predict(request: Request) -> Any:
        """Each task's label, its probability and every label's probability, in the shape of the input."""
        predictor = model.ready()
        parsed = read_predict_request(read_json(await request.body()), predictor, settings.limits)
        key = parsed.targets[0] is not None
        results = await batcher.submit(list(zip(parsed.articles, parsed.targets)), key)
        return results[0] if parsed.single else results

    @app.post("/explain", dependencies=[authorized], openapi_extra=_body_schema(ExplainBody))
    async def explain_article(request: Request) -> Any:
        """Which sentences moved the prediction: each one's effect on the label's probability when left out."""
        predictor = model.ready()
        article, task, label = read_explain_request(read_json(await request.body()), predictor, settings.limits)
        limit = settings.limits.max_explain_sentences
        try:
            result = await batcher.run(explain, predictor, article, task, label, limit)
        except ValueError as error:
            raise RequestError("article", str(error)) from None
        return {
            **{key: value for key, value in vars(result).items() if key != "sentences"},
            "sentences": result.as_rows(),
        }

    @app.get("/info", dependencies=[authorized])
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

    @app.get("/health")
    async def health() -> JSONResponse:
        """``ready`` once the model is loaded; 503 while it loads or when it failed to."""
        if model.predictor is not None:
            return JSONResponse({"status": "ready", "backend": model.predictor.backend_name})
        status = "failed" if model.error else "loading"
        return JSONResponse({"status": status, "detail": model.error}, status_code=503)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(PAGE / "index.html")

    app.mount("/static", StaticFiles(directory=PAGE), name="static")
    return app


def _predict_items(model: _Model) -> Callable[[list], list]:
    """What the batcher computes: ``(article, target)`` pairs (all with a target, or none) -> results."""

    def predict_items(items: list) -> list:
        articles = [article for article, _ in items]
        targets = [target for _, target in items]
        return model.ready().predict(articles, target=None if targets[0] is None else targets)

    return predict_items


def _key_checker(api_key: str | None) -> Callable[[Request], None]:
    def check_key(request: Request) -> None:
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
    async def request_error(request: Request, error: RequestError) -> JSONResponse:
        return JSONResponse({"detail": str(error), "field": error.field}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        where = ".".join(str(part) for part in problems[0]["loc"][1:]) if problems else "request"
        detail = f"{where}: {problems[0]['msg']}" if problems else "invalid request"
        return JSONResponse({"detail": detail, "field": where}, status_code=422)

    @app.exception_handler(ValueError)
    async def value_error(request: Request, error: ValueError) -> JSONResponse:
        # Predictor refuses what the request checks did not foresee; still the client's input
        return JSONResponse({"detail": str(error), "field": "articles"}, status_code=422)


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
    path = None if folder is None else folder / "metrics.json"
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("splits")
