"""``newsclf-serve``: a model folder as an HTTP service, with dynamic batching and a page to try it.

    newsclf-serve --model runs/latest/model                      # http://127.0.0.1:8000/ (page), /docs (API)
    newsclf-serve --model runs/latest/model --host 0.0.0.0 --api-key "$KEY" --threads 2
    curl -s 127.0.0.1:8000/predict -H 'content-type: application/json' \\
        -d '{"articles": {"title": "Fed raises rates", "content": "The central bank raised rates again."}}'

Or mount the app in a service of your own (it needs ``pip install 'newsclf[serve]'``):

>>> from inference.service.server import create_app
>>> app = create_app("runs/latest/model")  # doctest: +SKIP
>>> # uvicorn.run(app, host="127.0.0.1", port=8000)

The model loads in the background once the app starts; ``/health`` answers 503 until it is ready. With
``--workers N`` each of N processes loads its own copy before it takes requests from the shared port.
Concurrent requests share forward passes (:mod:`inference.service.dynamic_batcher`), which run off the event loop.
SIGTERM (or Ctrl-C) stops taking connections, lets the requests in flight finish, then exits.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.loading import ModelFolderError, check_model_folder
from ..options import PredictOptions, add_predictor_arguments, options_from_args
from .request_parsing import Limits

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..prediction.predictor import Predictor

API_KEY_VARIABLE = "NEWSCLF_API_KEY"
WORKER_ARGUMENTS = "NEWSCLF_SERVE_ARGUMENTS"  # newsclf-serve's arguments, for the processes of --workers
INSTALL_HINT = "newsclf-serve needs FastAPI and uvicorn: pip install 'newsclf[serve]'"


def create_app(
    model: str | Path | Predictor,
    *,
    options: PredictOptions = PredictOptions(),
    max_batch: int = 32,
    max_wait_ms: float = 0.0,
    limits: Limits | None = None,
    api_key: str | None = None,
    load_now: bool = False,
) -> FastAPI:
    """The FastAPI app serving a model folder (or a loaded :class:`~inference.prediction.predictor.Predictor`).

    Args:
        model: the model folder (checked, checksums included, before this returns) or a predictor.
        options: backend, precision, batch size and threads (see :meth:`Predictor.from_pretrained`).
        max_batch: most articles of concurrent requests scored in one forward pass.
        max_wait_ms: how long a request that finds the model idle waits for others to join its forward pass (0:
            none; requests that arrive while the model is busy share the next pass either way).
        limits: body size and JSON nesting, articles per request, characters per article, sentences to explain.
        api_key: when set, the API routes need it (``Authorization: Bearer <key>`` or ``X-API-Key``).
        load_now: load the model before returning, so the app never answers 503 while it loads (one of several
            workers sharing a port, which must not take requests before it can answer them); by default it loads
            in the background once the app starts.

    Raises:
        ModelFolderError: the folder is missing, incomplete or fails its checksums.
        ImportError: FastAPI is not installed (the ``serve`` extra).
    """
    from ..prediction.predictor import Predictor  # here, not at import: --help needs no torch

    try:
        from .app import ServeSettings, build_app
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT} ({error})") from error
    settings = ServeSettings(limits or Limits(), max_batch, max_wait_ms, api_key or None)
    if isinstance(model, Predictor):
        return build_app(lambda: model, None, settings)
    folder = check_model_folder(model)

    def load() -> Predictor:
        predictor = Predictor.from_options(folder, options)
        if not isinstance(predictor, Predictor):  # baseline.json beside config.json loads the TF-IDF baseline
            raise ModelFolderError(
                f"{folder}: loads as a TF-IDF baseline; newsclf-serve serves models of newsclf-train"
            )
        return predictor

    if load_now:
        loaded = load()
        return build_app(lambda: loaded, folder, settings)
    return build_app(load, folder, settings)


@contextmanager
def serve_in_background(app: FastAPI, host: str = "127.0.0.1", port: int = 0, timeout: float = 60.0) -> Iterator[str]:
    """Serves ``app`` with uvicorn in a thread of this process (a notebook, a test) and yields its URL.

    >>> with serve_in_background(create_app("runs/latest/model")) as url:  # doctest: +SKIP
    ...     print(url)  # http://127.0.0.1:PORT; the server stops when the block ends
    """
    import uvicorn

    # log_config=None: uvicorn's own logging setup closes every logging handler of the process (the caller's, a
    # training run's train.log), which then reopen on their next message
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, name="newsclf-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()
    try:
        yield f"http://{host}:{bound[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="newsclf-serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder written by newsclf-train")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0: any free one)")
    parser.add_argument("--api-key", default=os.environ.get(API_KEY_VARIABLE), help=f"or ${API_KEY_VARIABLE}")
    parser.add_argument(
        "--max-batch", type=int, default=32, help="most articles per forward pass across requests (default: 32)"
    )
    parser.add_argument(
        "--max-wait-ms",
        type=float,
        default=0.0,
        help="how long a request that finds the model idle waits for others to share its pass (default: 0, it goes "
        "at once; requests that arrive while the model is busy share the next pass either way)",
    )
    for limit in fields(Limits):
        flag = "--" + limit.name.replace("_", "-")
        parser.add_argument(flag, type=int, default=limit.default, help=f"request limit (default: {limit.default})")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes, each with its own copy of the model and the CPU's threads shared out among them "
        "(default: 1). On a CPU of a few cores, one per core keeps the cores busy under many clients: while one "
        "process reads and answers requests, another computes (docs/speed.md)",
    )
    parser.add_argument(
        "--graceful-timeout", type=float, default=30.0, help="seconds to finish requests on SIGTERM (default: 30)"
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"], help="(default: info)"
    )
    add_predictor_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Runs ``newsclf-serve`` until SIGTERM or Ctrl-C; returns 2 when the model or the options are wrong."""
    args = _parse_args(argv)
    try:
        import uvicorn

        if args.workers < 1:
            raise ValueError(f"--workers must be 1 or more, got {args.workers}")
        # one process builds the app here, checking everything first; several check the folder here, then each
        # builds its own app from the same arguments (WORKER_ARGUMENTS), since uvicorn starts them by import
        app: FastAPI | str = _app_from_args(args) if args.workers == 1 else _check_for_workers(args, argv)
    except ImportError as error:
        print(f"error: {INSTALL_HINT} ({error})", file=sys.stderr)
        return 2
    except (ModelFolderError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not _is_loopback(args.host):
        key = "an API key" if args.api_key else f"NO API key (--api-key or ${API_KEY_VARIABLE})"
        print(f"warning: listening on {args.host}, reachable from other machines, with {key}", file=sys.stderr)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        app,
        factory=args.workers > 1,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    return 0


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(**{limit.name: getattr(args, limit.name) for limit in fields(Limits)})


def _app_from_args(args: argparse.Namespace, load_now: bool = False) -> FastAPI:
    return create_app(
        args.model,
        options=options_from_args(args),
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        limits=_limits(args),
        api_key=args.api_key,
        load_now=load_now,
    )


def _check_for_workers(args: argparse.Namespace, argv: list[str] | None) -> str:
    """Checks the model folder and the options once, before any worker starts, and hands the workers the
    command's arguments; returns the import string of :func:`worker_app`."""
    check_model_folder(args.model)
    options_from_args(args)
    _limits(args)
    arguments = list(sys.argv[1:] if argv is None else argv)
    if args.threads is None:  # the cores shared out, so the workers' threads do not contend for them
        arguments += ["--threads", str(max(1, (os.cpu_count() or 1) // args.workers))]
    os.environ[WORKER_ARGUMENTS] = json.dumps(arguments)
    return "inference.service.server:worker_app"


def worker_app() -> FastAPI:
    """The app of one of ``newsclf-serve --workers N``'s processes, built from the command's arguments, its model
    loaded before it takes its first request."""
    return _app_from_args(_parse_args(json.loads(os.environ[WORKER_ARGUMENTS])), load_now=True)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


if __name__ == "__main__":
    sys.exit(main())
