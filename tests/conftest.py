"""Shared fixtures: private media folder per test, eager Celery for unit tests, and the
real Redis + Celery worker process the integration tests use."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from config.object_storage import s3_anchor_storage_from_env, s3_storage_from_env
from core import embedded_redis
from tests.factories import MembershipFactory, ProductFactory
from tests.seaweedfs import SeaweedServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Every test writes its files into its own temporary folder."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root  # the storage re-reads it on setting_changed
    return root


@pytest.fixture(autouse=True)
def index_local_dir(settings, tmp_path: Path) -> Path:
    """Every test keeps its local copies of index segments in its own folder."""
    settings.ORIGINAL_INDEX_LOCAL_DIR = tmp_path / "index-cache"
    return settings.ORIGINAL_INDEX_LOCAL_DIR


@pytest.fixture(autouse=True)
def audit_anchors(settings, tmp_path: Path) -> Path:
    """Every test appends its audit anchors to its own log (ids repeat between tests)."""
    path = tmp_path / "anchors.log"
    settings.REFUNDGUARD_AUDIT_ANCHOR_PATH = path
    return path


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Rate-limit counters live in the cache; ids repeat between tests, counts must not."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Each test starts in English: a page test that switches language leaves the
    thread's active language behind otherwise."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _fast_passwords() -> Iterator[None]:
    """Tests create many users; a slow password hash (rightly slow in production) would
    dominate their run time. The live-server and worker tests share these settings."""
    original = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield
    settings.PASSWORD_HASHERS = original


@pytest.fixture(autouse=True, scope="session")
def _eager_celery() -> Iterator[None]:
    """Unit tests run tasks in-process; integration tests switch this off."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


def stored_files(root: Path) -> list[Path]:
    """Every file under a media folder."""
    return [p for p in root.rglob("*") if p.is_file()]


def stored_names(folder: str = "") -> list[str]:
    """Every file in the default storage (the local folder or the bucket) under
    ``folder``, through the storage API alone: the same check on either storage."""
    from django.core.files.storage import default_storage

    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    prefix = f"{folder.rstrip('/')}/" if folder else ""
    names = [prefix + name for name in files]
    for sub in folders:
        names += stored_names(prefix + sub)
    return sorted(names)


def stored_bytes_replace(name: str, data: bytes) -> None:
    """Swap a stored file's bytes as someone with write access to the storage could
    (delete, then write anew: write-once storage refuses a plain overwrite)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(data)) == name


@pytest.fixture
def membership(db):
    """A merchant owner."""
    return MembershipFactory()


@pytest.fixture
def product(membership):
    """A product of ``membership``'s merchant."""
    return ProductFactory(merchant=membership.merchant)


# --- Real processes ------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: ``REDIS_URL`` when set (CI), else the bundled one on a private socket."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    folder = tmp_path_factory.mktemp("redis")
    with embedded_redis.running(folder / "redis.sock", data_dir=folder) as url:
        yield url


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A real S3 server (SeaweedFS on loopback) for the whole session, started on first use."""
    server = SeaweedServer(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def object_storage(seaweedfs: SeaweedServer, settings) -> dict[str, str]:
    """The default storage is the S3 server, under a prefix of this test's own (the
    ``media_root`` of the ``s3`` tests), with the audit anchors beside it, as
    ``config.settings`` sets them up; the value is the environment a worker needs."""
    env = seaweedfs.env(f"tests/{uuid.uuid4().hex}")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage_from_env(env),
        "audit_anchors": s3_anchor_storage_from_env(env),
    }
    return env


def _database_url_for_worker() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class WorkerProcess:
    """A real ``celery worker`` process on the test database, the test's media folder and
    a real Redis; ``kill()`` it like a crash and ``start()`` it again."""

    def __init__(
        self,
        redis_url: str,
        media_root: Path,
        *,
        extra_env: dict[str, str] | None = None,
        queues: tuple[str, ...] = (),
        name: str = "",
    ) -> None:
        self.redis_url = redis_url
        self.queues = queues  # the queues it takes: all when empty
        self.name = name  # the node name, when several run side by side
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url_for_worker(),
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(media_root),
            # The test's own anchor log (see ``audit_anchors``), never the developer's.
            "REFUNDGUARD_AUDIT_ANCHOR_PATH": str(media_root.parent / "anchors.log"),
            "REFUNDGUARD_INDEX_LOCAL_DIR": str(media_root.parent / "index-cache"),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            **(extra_env or {}),  # e.g. the object storage of the ``s3`` tests
        }
        self.log = media_root.parent / "worker.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
                 "--loglevel", "INFO", "--without-heartbeat",
                 "--without-gossip", "--without-mingle",
                 "--queues", ",".join(self.queues or settings.TASK_QUEUES),
                 *(["--hostname", f"{self.name}@%h"] if self.name else [])],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no ack, no cleanup."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def worker(transactional_db, redis_url: str, media_root: Path) -> Iterator[WorkerProcess]:
    """A running real worker (see ``WorkerProcess``); tasks sent from the test reach it."""
    process = WorkerProcess(redis_url, media_root)
    old = {
        "broker_url": celery_app.conf.broker_url,
        "task_always_eager": celery_app.conf.task_always_eager,
    }
    celery_app.conf.broker_url = redis_url
    celery_app.conf.task_always_eager = False
    _reset_broker_connections()
    celery_app.control.purge()  # leftovers of an earlier, interrupted run
    process.start()
    try:
        yield process
    finally:
        for key, value in old.items():
            setattr(celery_app.conf, key, value)
        _reset_broker_connections()
        process.stop()
        if os.environ.get("RG_SHOW_WORKER_LOG"):
            sys.stderr.write(process.log.read_text(errors="replace"))


@pytest.fixture
def celery_worker_process(worker: WorkerProcess) -> str:
    """A running real worker; the value is its broker URL."""
    return worker.redis_url


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """When a test with a real worker fails, attach what the worker and the broker saw:
    its log's tail, what is still queued and every row's status (for flakes on CI)."""
    outcome = yield
    report = outcome.get_result()
    process = getattr(item, "funcargs", {}).get("worker")
    if report.when != "call" or not report.failed or not isinstance(process, WorkerProcess):
        return
    lines = [f"worker alive: {process.process is not None and process.process.poll() is None}"]
    try:
        with celery_app.connection_for_write() as conn:
            client = conn.default_channel.client
            lines.append(f"queued: { {q: client.llen(q) for q in settings.TASK_QUEUES} }")
    except Exception as error:  # the diagnosis must not hide the failure
        lines.append(f"broker unreachable: {error!r}")
    from pytest_django.plugin import blocking_manager_key

    from disputes.models import ClaimImage
    from evidence.models import PackingVideo, ReferencePhoto

    try:
        with item.config.stash[blocking_manager_key].unblock():
            for model, field in ((ReferencePhoto, "status"), (PackingVideo, "status"),
                                 (ClaimImage, "analysis_status")):  # fmt: skip
                lines.append(f"{model.__name__}: {list(model.objects.values_list('pk', field))}")
    except Exception as error:  # the diagnosis must never break the run
        lines.append(f"database unreadable: {error!r}")
    log = process.log.read_text(errors="replace") if process.log.exists() else ""
    lines.append("worker log (tail):\n" + "\n".join(log.splitlines()[-60:]))
    text = "\n".join(lines)
    report.sections.append(("real worker", text))
    # Also straight to the terminal: CI keeps only part of the output, sections last.
    error = str(call.excinfo.value)[:2000] if call.excinfo is not None else ""
    sys.__stderr__.write(f"\n--- real worker, {item.nodeid} failed: {error}\n{text}\n---\n")


def _reset_broker_connections() -> None:
    """Drop cached broker connections so the next send uses the current broker_url."""
    from kombu import pools

    pools.reset()  # closes every cached connection and forgets the pools
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


assert settings  # imported for type checkers; fixtures use pytest-django's `settings`


@pytest.fixture
def near_copy_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The services' engine, with its derived matches scored just under the verdict.

    What a heavily re-photographed copy (or a look-alike) gives; no test image reliably
    lands in that band, so the score is set — the match, its homography and everything
    the services do with it are real.
    """
    from forensics import pipeline
    from forensics.same_photo import NEAR_COPY_THRESHOLD

    real_claim_match = pipeline.claim_match

    def scored_under_the_verdict(*args: Any, **kwargs: Any) -> Any:
        match = real_claim_match(*args, **kwargs)
        if match is None or not match.is_derived:
            return match
        return dataclasses.replace(
            match,
            same_photo_score=NEAR_COPY_THRESHOLD,
            is_derived=False,
            region=None,
            heatmap=None,
            transforms=[],
        )

    monkeypatch.setattr(pipeline, "claim_match", scored_under_the_verdict)
