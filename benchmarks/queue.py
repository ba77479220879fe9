"""Benchmark: does the review queue render in under 200 ms with 10,000 disputes?

Seeds ``--disputes`` (default 10,000) disputes across ``--merchants`` (default 25)
merchants in a PostgreSQL database of its own (``--database-url``, default
``postgres://postgres@127.0.0.1:5432/refundguard_bench``; created and migrated when
missing, re-seeded when its dispute count differs). Each dispute has one analysed claim
photo with a finding, the way the analysis leaves them: a realistic mix of statuses
(about 60 % awaiting a decision) and risk levels.

Then, signed in as a support reviewer with every merchant in scope, it requests the
queue through Django's test client (the whole server path: middleware, session, auth,
selectors, template) ``--repeats`` times per scenario — the default page, page 50,
high risk only, overdue only, one merchant, and a search — and prints the median and
p95 server time and the number of SQL queries per request, plus PostgreSQL's plan for
the page query (which index it uses). Runs on one CPU (``os.sched_setaffinity``).

Run from the repository root::

    .venv/bin/python benchmarks/queue.py
    .venv/bin/python benchmarks/queue.py --disputes 10000 --repeats 30 --reseed
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

# This file is named like the standard library's ``queue`` (which psycopg and others
# import): take its folder off the path and put the repository root on it instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

TARGET_MS = 200.0
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/refundguard_bench"


def _ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist yet."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    # DEBUG off refuses the development keys: the benchmark brings its own.
    os.environ.setdefault("DJANGO_SECRET_KEY", "queue-benchmark-only")
    os.environ.setdefault("REFUNDGUARD_BUYER_KEY", "queue-benchmark-only")
    os.environ.setdefault("REFUNDGUARD_AUDIT_KEY", "queue-benchmark-only")
    os.environ.setdefault("REFUNDGUARD_HTTPS", "false")  # the test client speaks http
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test client's "testserver" host in
    call_command("migrate", verbosity=0)


def _seed(n_disputes: int, n_merchants: int, seed: int, *, reseed: bool) -> Any:
    """Fill the database with ``n_disputes`` analysed disputes; return the reviewer."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from core.models import Merchant, Reviewer
    from disputes.buyer_history import dispute_buyer_key
    from disputes.models import RISK_RANK, ClaimImage, Dispute, Finding
    from forensics.findings import FindingCode

    rng = random.Random(seed)
    User = get_user_model()
    seeded = Dispute.objects.count() == n_disputes and Reviewer.objects.exists()
    if not reseed and seeded and not Dispute.objects.filter(buyer_key="").exists():
        print(f"reusing the {n_disputes:,} seeded disputes (--reseed to rebuild)")
        return Reviewer.objects.select_related("user").first().user  # type: ignore[union-attr]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE disputes_finding, disputes_claimimage, disputes_dispute, "
            "disputes_decision, disputes_internalnote, disputes_auditevent, "
            "evidence_reviewer_merchants, evidence_reviewer, evidence_membership, "
            "evidence_merchant, auth_user CASCADE"
        )
    now = timezone.now()
    statuses = (
        [Dispute.Status.NEEDS_REVIEW] * 45
        + [Dispute.Status.ANALYSING] * 5
        + [Dispute.Status.MORE_EVIDENCE] * 10
        + [Dispute.Status.CLAIM_REJECTED] * 25
        + [Dispute.Status.REFUND_APPROVED] * 15
    )
    levels = ["high"] * 10 + ["medium"] * 20 + ["low"] * 60 + [""] * 10
    with transaction.atomic():
        merchants = Merchant.objects.bulk_create(
            [Merchant(slug=f"bench-{i}", name=f"Bench shop {i:02d}") for i in range(n_merchants)]
        )
        user = User.objects.create_user("bench-reviewer", password="bench")
        Reviewer.objects.create(user=user, all_merchants=True)
        disputes = []
        for i in range(n_disputes):
            level = rng.choice(levels)
            status = rng.choice(statuses)
            if status == Dispute.Status.ANALYSING:
                level = ""
            opened = now - timedelta(hours=rng.uniform(0, 24 * 60))
            # About 3 disputes per buyer, each buyer on one platform: repeat buyers exist,
            # so the queue's buyer-history counts have rows to count.
            buyer = rng.randrange(n_disputes // 3)
            platform = Dispute.Platform.values[buyer % len(Dispute.Platform.values)]
            disputes.append(
                Dispute(
                    merchant=rng.choice(merchants),
                    platform=platform,
                    external_id=f"BENCH-{i:06d}",
                    order_ref=f"ORD-{rng.randrange(10**8):08d}",
                    buyer_ref=f"buyer-{buyer}",
                    buyer_key=dispute_buyer_key(platform=platform, buyer_ref=f"buyer-{buyer}"),
                    claim_type=Dispute.ClaimType.REFUND_ONLY,
                    reason="Arrived broken",
                    amount=f"{rng.uniform(5, 2000):.2f}",
                    currency="CNY",
                    opened_at=opened,
                    respond_by=opened + timedelta(days=rng.uniform(1, 60)),
                    status=status,
                    risk_level=level,
                    risk_rank=RISK_RANK[level],
                    risk_score=None if not level else rng.uniform(0, 1),
                )
            )
        disputes = Dispute.objects.bulk_create(disputes, batch_size=2000)
        images = ClaimImage.objects.bulk_create(
            [
                ClaimImage(
                    dispute=d,
                    merchant_id=d.merchant_id,
                    file=f"originals/bench/{d.pk}.jpg",
                    original_name="IMG_0001.jpg",
                    sha256=f"{d.pk:064x}",
                    size_bytes=2_000_000,
                    content_type="image/jpeg",
                    width=4000,
                    height=3000,
                    analysis_status=ClaimImage.Status.ANALYSED,
                    risk_level=d.risk_level,
                    risk_score=d.risk_score,
                    thumbnail=f"derived/bench/{d.pk}/thumb.jpg",
                )
                for d in disputes
            ],
            batch_size=2000,
        )
        findings = Finding.objects.bulk_create(
            [
                Finding(
                    claim_image=image,
                    code=FindingCode.DERIVED_FROM_ORIGINAL
                    if image.risk_level == "high"
                    else FindingCode.NO_MATCH,
                    weight=image.risk_score or 0.1,
                    message="This is your photo MUG-1 / front.jpg, resized, with the area "
                    "at x=10, y=20 (100×80 pixels) changed."
                    if image.risk_level == "high"
                    else "No match with your evidence.",
                    evidence={"original_label": "MUG-1 / front.jpg", "transforms": ["resized"]},
                )
                for image in images
            ],
            batch_size=2000,
        )
        for dispute, image, finding in zip(disputes, images, findings, strict=True):
            dispute.top_claim_image = image
            dispute.top_finding = finding
        Dispute.objects.bulk_update(disputes, ["top_claim_image", "top_finding"], batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {n_disputes:,} disputes in {time.perf_counter() - started:.1f} s")
    return user


def _plan() -> str:
    from django.db import connection

    from core.models import Reviewer
    from disputes.selectors import review_queue

    reviewer = Reviewer.objects.select_related("user").get()
    queryset = review_queue(user=reviewer.user)[:25]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--disputes", type=int, default=10_000)
    parser.add_argument("--merchants", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reseed", action="store_true", help="rebuild the seeded data")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("the queue benchmark runs on PostgreSQL (--database-url postgres://…)")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    _ensure_database(args.database_url)
    _setup(args.database_url)
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from disputes.models import Dispute

    reviewer = _seed(args.disputes, args.merchants, args.seed, reseed=args.reseed)
    one_merchant = Dispute.objects.values_list("merchant_id", flat=True).first()
    client = Client()
    client.force_login(reviewer)
    url = reverse("disputes:queue")
    scenarios: list[tuple[str, dict[str, Any]]] = [
        ("default (awaiting, page 1)", {}),
        ("page 50", {"page": 50}),
        ("high risk only", {"risk": "high"}),
        ("overdue only", {"overdue": "on"}),
        ("one merchant", {"merchant": one_merchant}),
        ("search order number", {"q": "ORD-0012"}),
    ]
    awaiting = Dispute.objects.filter(status__in=Dispute.AWAITING_DECISION).count()
    print(
        f"{Dispute.objects.count():,} disputes ({awaiting:,} awaiting a decision), "
        f"{args.repeats} requests per scenario, one CPU\n"
    )
    print(f"{'scenario':<28} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'rows':>6}")
    results = {}
    for name, params in scenarios:
        client.get(url, params)  # warm caches (templates, translations, plan)
        times = []
        queries = 0
        rows = 0
        for _ in range(args.repeats):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                print(f"{name}: HTTP {response.status_code}")
                return 1
            queries = len(captured)
            rows = len(response.context["page"].object_list)
        times.sort()
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results[name] = {"median_ms": round(median, 1), "p95_ms": round(p95, 1), "queries": queries}
        print(f"{name:<28} {median:>10.1f} {p95:>8.1f} {queries:>8} {rows:>6}")
    print("\nPostgreSQL plan of the default page query:\n" + _plan())
    worst = max(r["p95_ms"] for r in results.values())
    met = worst < TARGET_MS
    print(f"\nworst p95 {worst:.1f} ms; target < {TARGET_MS:.0f} ms: {'MET' if met else 'NOT MET'}")
    print(json.dumps({"disputes": args.disputes, "scenarios": results, "target_met": met}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
