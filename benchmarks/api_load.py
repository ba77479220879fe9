"""Benchmark: 20 concurrent API clients creating disputes with 2 claim photos each.

Sets up a PostgreSQL database of its own (``--database-url``, default
``postgres://postgres@127.0.0.1:5432/refundguard_load``, dropped and re-created each run)
and uses the machine's Redis (``--redis-url``, default ``redis://127.0.0.1:6379/14``;
database 13 for the shared rate-limit cache). Creates a merchant with a fingerprinted
listing photo and an API token, then starts the production stack as separate processes:
``gunicorn config.wsgi`` (``--web-workers`` processes × ``--threads`` threads) and
``--celery-workers`` (default 2) Celery worker processes.

``--clients`` (default 20) threads, each with its own HTTP connection, POST
``/api/v1/disputes/`` with two photos (a doctored copy of the listing photo and an
unrelated photo, ~1600×1200 JPEGs) as fast as they can for ``--seconds`` (default 60).
Then it waits (up to ``--drain-timeout``) until the workers have analysed every photo,
and prints requests/s, p50/p95/max latency, errors, how many analyses finished, and the
time from upload to finished analysis (request start → the dispute's last photo
``processed_at``). Target: zero errors, every analysis finished.

Run from the repository root::

    .venv/bin/python benchmarks/api_load.py
    .venv/bin/python benchmarks/api_load.py --clients 20 --seconds 60 --celery-workers 2
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/refundguard_load"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stack_start(
    env: dict[str, str],
    *,
    port: int,
    web_workers: int,
    threads: int,
    celery_workers: int,
    name: str,
) -> list[subprocess.Popen[bytes]]:
    """gunicorn on ``port`` and ``celery_workers`` solo Celery workers, as in production."""
    bin_dir = Path(sys.executable).parent
    processes = [
        subprocess.Popen(
            [
                str(bin_dir / "gunicorn"),
                "config.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(web_workers),
                "--threads",
                str(threads),
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
    ]
    for n in range(celery_workers):
        processes.append(
            subprocess.Popen(
                [
                    str(bin_dir / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "-P",
                    "solo",
                    "-n",
                    f"{name}{n}@%h",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env=env,
            )
        )
    return processes


def stack_stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Warm shutdown for every process; kill what does not stop within 30 s."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _photos() -> tuple[bytes, bytes, bytes]:
    """(listing photo, doctored copy of it, unrelated photo) as ~1600×1200 JPEGs."""
    import numpy as np
    from PIL import Image
    from skimage import data

    from evidence.demo import doctored_photo

    def jpeg(image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        return out.getvalue()

    listing = Image.fromarray(np.asarray(data.coffee())).convert("RGB").resize((1600, 1067))
    doctored, _ = doctored_photo(listing)
    other = Image.fromarray(np.asarray(data.astronaut())).convert("RGB").resize((1200, 1200))
    return jpeg(listing), jpeg(doctored), jpeg(other)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--celery-workers", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=1800.0)
    args = parser.parse_args()

    media = Path(tempfile.mkdtemp(prefix="refundguard-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "REFUNDGUARD_CACHE_URL": args.cache_url,
        "MEDIA_ROOT": str(media),
        "DJANGO_DEBUG": "false",
        "REFUNDGUARD_HTTPS": "false",  # plain http on loopback
        "DJANGO_SECRET_KEY": "load-benchmark-only",
        "REFUNDGUARD_BUYER_KEY": "load-benchmark-only",
        "REFUNDGUARD_AUDIT_KEY": "load-benchmark-only",
        # The run's own anchor log: never var/audit/anchors.log, whose chain heads
        # verify_custody holds the development database to (removed with the run).
        "REFUNDGUARD_AUDIT_ANCHOR_PATH": str(media / "audit-anchors.log"),
        "REFUNDGUARD_API_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    _recreate_database(args.database_url)
    import django

    django.setup()
    import redis
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    for url in (args.redis_url, args.cache_url):
        redis.Redis.from_url(url).flushdb()
    call_command("migrate", verbosity=0)
    from api import services as api_services
    from core.models import Merchant
    from core.services import merchant_create
    from disputes.models import ClaimImage, Dispute
    from evidence import services as evidence_services

    listing, doctored, other = _photos()
    owner = get_user_model().objects.create_user("load-owner")
    merchant = merchant_create(slug="load", name="Load shop", owner=owner)
    product = evidence_services.product_create(
        merchant=merchant, actor=owner, sku="MUG-1", title="Mug"
    )
    photo = evidence_services.photo_ingest(
        product=product, upload=ContentFile(listing, name="front.jpg"), filename="front.jpg",
        uploader=owner,
    ).obj  # fmt: skip
    evidence_services.photo_fingerprint(photo_id=photo.pk)
    token = api_services.token_create(merchant=merchant, actor=owner, name="load").secret
    assert Merchant.objects.count() == 1

    port = _free_port()
    processes = stack_start(
        env,
        port=port,
        web_workers=args.web_workers,
        threads=args.threads,
        celery_workers=args.celery_workers,
        name="load",
    )
    import requests

    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/products/", headers=headers, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            print("gunicorn did not come up")
            return 1

        latencies: list[float] = []
        errors: list[str] = []
        started_at: dict[int, float] = {}
        lock = threading.Lock()
        stop_at = time.time() + args.seconds
        counter = iter(range(10**9))

        def client(index: int) -> None:
            session = requests.Session()
            session.headers.update(headers)
            while time.time() < stop_at:
                n = next(counter)
                t0 = time.time()
                try:
                    response = session.post(
                        f"{base}/disputes/",
                        data={
                            "platform": "taobao",
                            "external_id": f"LOAD-{n:06d}",
                            "order_ref": f"ORDER-{n:06d}",
                            "buyer_ref": f"buyer-{n % 97}",
                            "claim_type": "refund_only",
                            "amount": "99.00",
                            "currency": "CNY",
                            "respond_by": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
                        },
                        files=[
                            ("photos", ("claim-1.jpg", doctored, "image/jpeg")),
                            ("photos", ("claim-2.jpg", other, "image/jpeg")),
                        ],
                        timeout=120,
                    )
                    elapsed = time.time() - t0
                    with lock:
                        latencies.append(elapsed)
                        if response.status_code == 201:
                            started_at[response.json()["id"]] = t0
                        else:
                            errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
                except requests.RequestException as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        load_start = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        load_seconds = time.time() - load_start
        total = len(latencies)
        print(
            f"{args.clients} clients × {args.seconds:.0f} s against gunicorn "
            f"({args.web_workers}×{args.threads}) + {args.celery_workers} Celery workers, "
            "PostgreSQL + Redis"
        )
        print(f"requests: {total}, created: {len(started_at)}, errors: {len(errors)}")
        for line in sorted(set(errors))[:5]:
            print("  error:", line)
        print(
            f"throughput: {total / load_seconds:.2f} requests/s; latency p50 "
            f"{_percentile(latencies, 0.5) * 1000:.0f} ms, p95 "
            f"{_percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )

        drain_start = time.time()
        pending_statuses = [ClaimImage.Status.PENDING, ClaimImage.Status.PROCESSING]
        while time.time() - drain_start < args.drain_timeout:
            left = ClaimImage.objects.filter(analysis_status__in=pending_statuses).count()
            if left == 0:
                break
            print(f"\r  waiting for the workers: {left} photos left", end="", flush=True)
            time.sleep(2)
        print()
        images = ClaimImage.objects.filter(dispute_id__in=started_at)
        done = images.filter(analysis_status=ClaimImage.Status.ANALYSED).count()
        failed = images.filter(analysis_status=ClaimImage.Status.FAILED).count()
        waits = []
        for dispute in Dispute.objects.filter(pk__in=started_at).prefetch_related("claim_images"):
            finished = [i.processed_at for i in dispute.claim_images.all()]
            if all(finished):
                waits.append(max(f.timestamp() for f in finished) - started_at[dispute.pk])
        flagged = Dispute.objects.filter(pk__in=started_at, risk_level="high").count()
        print(
            f"analyses: {done} of {images.count()} photos analysed, {failed} failed; "
            f"{flagged} of {len(started_at)} disputes high risk"
        )
        if waits:
            print(
                f"upload → analysis finished: p50 {statistics.median(waits):.1f} s, "
                f"p95 {_percentile(waits, 0.95):.1f} s, max {max(waits):.1f} s "
                f"(drained {time.time() - drain_start:.0f} s after the load stopped)"
            )
        met = not errors and done == images.count() and failed == 0
        print(f"target (zero errors, every analysis finished): {'MET' if met else 'NOT MET'}")
        print(
            json.dumps(
                {
                    "requests": total,
                    "errors": len(errors),
                    "requests_per_second": round(total / load_seconds, 2),
                    "latency_p50_ms": round(_percentile(latencies, 0.5) * 1000),
                    "latency_p95_ms": round(_percentile(latencies, 0.95) * 1000),
                    "photos": images.count(),
                    "analysed": done,
                    "analysis_p95_s": round(_percentile(waits, 0.95), 1) if waits else None,
                    "target_met": met,
                }
            )
        )
        return 0 if met else 1
    finally:
        stack_stop(processes)
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
