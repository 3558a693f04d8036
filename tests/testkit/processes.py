"""Driving what tests start in other processes: a server answered over HTTP, a prediction run killed midway."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def call(url: str, path: str, body: Any = None, raw: bytes | None = None, headers: dict | None = None):
    """``(status, parsed JSON or text)`` of one request; a JSON ``body`` is sent as POST."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload, kind = response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        status, payload, kind = error.code, error.read(), error.headers.get("content-type", "")
    return status, json.loads(payload) if "json" in kind else payload.decode()


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if call(url, "/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} never became ready")


def kill_after_progress(
    process: subprocess.Popen, progress: Path, at_least: int, each_poll: Callable[[], None] | None = None
) -> None:
    """SIGKILLs a resumable ``newsclf-predict`` once its progress file records ``at_least`` articles
    (or it ended, or 300 s passed), calling ``each_poll`` on every look and once more before the kill."""
    poll = each_poll or (lambda: None)
    try:
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            poll()
            try:
                if json.loads(progress.read_text(encoding="utf-8"))["done"] >= at_least:
                    break
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.005)
        poll()
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
