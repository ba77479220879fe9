"""Benchmark: 50 concurrent people on the review and upload pages for 60 seconds.

Same stack as ``api_load.py``: its own PostgreSQL database (``refundguard_pages``,
re-created each run), the machine's Redis, ``gunicorn config.wsgi`` (``--web-workers`` ×
``--threads``) and ``--celery-workers`` Celery workers, on loopback. Seeds 20 merchants
with a product and 200 analysed-looking disputes each (so the queue has 4,000 rows),
a support reviewer and one owner per merchant.

Half the ``--clients`` (default 50) are reviewers: each signs in through the login form
and loops over the review queue (default, filtered, page 2) and dispute pages. The other
half are merchants: each signs in and uploads a reference photo to its product page (the
page's own JSON upload, with the CSRF token), then reloads the product page. After
``--seconds`` (default 60) it prints requests, errors, requests/s and p50/p95/max per
page kind. Target: zero errors.

Run from the repository root::

    .venv/bin/python benchmarks/pages_load.py
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

from benchmarks.api_load import (
    _free_port,
    _percentile,
    _recreate_database,
    stack_start,
    stack_stop,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/refundguard_pages"
PASSWORD = "load-benchmark-password-1"


def _jpeg(seed: int) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


def _seed(merchants: int, disputes_each: int) -> list[tuple[str, int]]:
    """Merchants, owners, products, scored disputes; returns (owner name, product id)."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.models import Membership, Merchant, Reviewer
    from disputes.models import RISK_RANK, ClaimImage, Dispute, Finding
    from evidence.models import Product
    from forensics.findings import FindingCode

    rng = random.Random(7)
    User = get_user_model()
    reviewer = User.objects.create_user("load-reviewer", password=PASSWORD)
    Reviewer.objects.create(user=reviewer, all_merchants=True)
    owners = []
    now = timezone.now()
    for m in range(merchants):
        merchant = Merchant.objects.create(slug=f"shop-{m}", name=f"Shop {m:02d}")
        owner = User.objects.create_user(f"owner-{m}", password=PASSWORD)
        Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
        product = Product.objects.create(merchant=merchant, sku="SKU-1", title="Mug")
        owners.append((owner.username, product.pk))
        rows = []
        for n in range(disputes_each):
            level = rng.choice(["high", "medium", "low", "low"])
            rows.append(
                Dispute(
                    merchant=merchant,
                    platform="taobao",
                    external_id=f"TB-{m}-{n}",
                    order_ref=f"O-{m}-{n}",
                    buyer_ref=f"b-{n % 30}",
                    claim_type="refund_only",
                    amount="99.00",
                    currency="CNY",
                    opened_at=now,
                    respond_by=now + timedelta(hours=rng.uniform(-24, 96)),
                    status=Dispute.Status.NEEDS_REVIEW,
                    risk_level=level,
                    risk_rank=RISK_RANK[level],
                    risk_score=rng.random(),
                )
            )
        rows = Dispute.objects.bulk_create(rows)
        images = ClaimImage.objects.bulk_create(
            [
                ClaimImage(
                    dispute=d,
                    merchant=merchant,
                    file=f"originals/x/{d.pk}.jpg",
                    original_name="claim.jpg",
                    sha256=f"{d.pk:064x}",
                    size_bytes=1,
                    content_type="image/jpeg",
                    width=800,
                    height=600,
                    analysis_status=ClaimImage.Status.ANALYSED,
                    risk_level=d.risk_level,
                    risk_score=d.risk_score,
                )
                for d in rows
            ]
        )
        findings = Finding.objects.bulk_create(
            [
                Finding(claim_image=i, code=FindingCode.NO_MATCH, weight=0.2, message="No match.")
                for i in images
            ]
        )
        for d, i, f in zip(rows, images, findings, strict=True):
            d.top_claim_image, d.top_finding = i, f
        Dispute.objects.bulk_update(rows, ["top_claim_image", "top_finding"])
    return owners


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--celery-workers", type=int, default=1)
    parser.add_argument("--merchants", type=int, default=20)
    parser.add_argument("--disputes", type=int, default=200, help="per merchant")
    args = parser.parse_args()

    media = Path(tempfile.mkdtemp(prefix="refundguard-pages-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "MEDIA_ROOT": str(media),
        "DJANGO_DEBUG": "false",
        "REFUNDGUARD_HTTPS": "false",  # plain http on loopback
        "DJANGO_SECRET_KEY": "pages-benchmark-only",
        "REFUNDGUARD_BUYER_KEY": "pages-benchmark-only",
        "REFUNDGUARD_AUDIT_KEY": "pages-benchmark-only",
        # The run's own anchor log: never var/audit/anchors.log, whose chain heads
        # verify_custody holds the development database to (removed with the run).
        "REFUNDGUARD_AUDIT_ANCHOR_PATH": str(media / "audit-anchors.log"),
        "REFUNDGUARD_LOGIN_FAILURE_LIMIT": "1000",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    _recreate_database(args.database_url)
    import django

    django.setup()
    import redis
    import requests
    from django.core.management import call_command

    redis.Redis.from_url(args.redis_url).flushdb()
    call_command("migrate", verbosity=0)
    owners = _seed(args.merchants, args.disputes)
    from disputes.models import Dispute

    dispute_ids = list(Dispute.objects.values_list("pk", flat=True)[:500])
    photos = [_jpeg(i) for i in range(8)]

    port = _free_port()
    processes = stack_start(
        env,
        port=port,
        web_workers=args.web_workers,
        threads=args.threads,
        celery_workers=args.celery_workers,
        name="pages",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/accounts/login/", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            print("gunicorn did not come up")
            return 1

        timings: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.time() + args.seconds

        def record(
            kind: str, started: float, response: requests.Response | None, ok: bool, why: str = ""
        ) -> None:
            with lock:
                timings[kind].append(time.time() - started)
                if not ok:
                    code = response.status_code if response is not None else "-"
                    errors.append(f"{kind}: {code} {why}"[:200])

        def login(session: requests.Session, username: str) -> None:
            page = session.get(f"{base}/accounts/login/", timeout=60)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert token, "no CSRF token on the login page"
            done = session.post(
                f"{base}/accounts/login/",
                data={
                    "username": username,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": token.group(1),
                },
                headers={"Referer": f"{base}/accounts/login/"},
                timeout=60,
            )
            if "sessionid" not in session.cookies:
                raise RuntimeError(f"login failed for {username}: HTTP {done.status_code}")

        def reviewer_loop(index: int) -> None:
            session = requests.Session()
            login(session, "load-reviewer")
            rng = random.Random(index)
            pages = [
                ("queue", "/disputes/queue/"),
                ("queue filtered", "/disputes/queue/?risk=high&overdue=on"),
                ("queue page 2", "/disputes/queue/?page=2"),
            ]
            while time.time() < stop_at:
                kind, path = rng.choice(
                    [*pages, ("dispute page", f"/disputes/{rng.choice(dispute_ids)}/")]
                )
                t0 = time.time()
                try:
                    r = session.get(base + path, timeout=60)
                    record(kind, t0, r, r.status_code == 200)
                except requests.RequestException as exc:
                    record(kind, t0, None, False, type(exc).__name__)

        def merchant_loop(index: int) -> None:
            session = requests.Session()
            username, product_id = owners[index % len(owners)]
            login(session, username)
            url = f"{base}/evidence/products/{product_id}/"
            n = 0
            while time.time() < stop_at:
                t0 = time.time()
                try:
                    page = session.get(url, timeout=60)
                    record("product page", t0, page, page.status_code == 200)
                    token = session.cookies.get("csrftoken", "")
                    t0 = time.time()
                    data = photos[n % len(photos)]
                    # A new byte at the end makes each upload a new photo, not a duplicate.
                    body = data + bytes([index % 256, n % 256])
                    r = session.post(
                        url,
                        files={"files": (f"p-{index}-{n}.jpg", body, "image/jpeg")},
                        headers={
                            "X-CSRFToken": token,
                            "Accept": "application/json",
                            "Referer": url,
                        },
                        timeout=60,
                    )
                    ok = r.status_code == 200 and '"stored"' in r.text
                    record("photo upload", t0, r, ok, r.text[:80])
                    n += 1
                except requests.RequestException as exc:
                    record("photo upload", t0, None, False, type(exc).__name__)

        threads = [
            threading.Thread(target=reviewer_loop if i % 2 == 0 else merchant_loop, args=(i,))
            for i in range(args.clients)
        ]
        started = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - started
        total = sum(len(v) for v in timings.values())
        reviewers = args.clients // 2
        print(
            f"{args.clients} clients ({reviewers} reviewers, {args.clients - reviewers} merchants)"
            f" × {args.seconds:.0f} s against gunicorn ({args.web_workers}×{args.threads}) on"
            f" PostgreSQL; {Dispute.objects.count():,} disputes"
        )
        print(f"requests: {total}, errors: {len(errors)}, {total / elapsed:.1f} requests/s")
        for line in sorted(set(errors))[:5]:
            print("  error:", line)
        print(f"{'page':<16} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        summary = {}
        for kind, values in sorted(timings.items()):
            p50, p95 = _percentile(values, 0.5) * 1000, _percentile(values, 0.95) * 1000
            worst = max(values) * 1000
            summary[kind] = {
                "n": len(values),
                "p50_ms": round(p50),
                "p95_ms": round(p95),
                "max_ms": round(worst),
            }
            print(f"{kind:<16} {len(values):>6} {p50:>8.0f} {p95:>8.0f} {worst:>8.0f}")
        every = [v for values in timings.values() for v in values]
        p50_all, p95_all = _percentile(every, 0.5) * 1000, _percentile(every, 0.95) * 1000
        max_all = max(every, default=0.0) * 1000
        print(f"all pages: p50 {p50_all:.0f} ms, p95 {p95_all:.0f} ms, max {max_all:.0f} ms")
        met = not errors
        print(f"target (zero errors): {'MET' if met else 'NOT MET'}")
        print(
            json.dumps(
                {
                    "requests": total,
                    "errors": len(errors),
                    "requests_per_second": round(total / elapsed, 1),
                    "pages": summary,
                    "p50_ms": round(p50_all),
                    "p95_ms": round(p95_all),
                    "max_ms": round(max_all),
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
