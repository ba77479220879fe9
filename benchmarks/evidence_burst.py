"""Benchmark: how many re-analyses does a burst of new evidence cause?

Issue 22 measured it before the debounce: uploading 194 photos queued 200 re-analysis
tasks and re-analysed the same claims 61 times. Now new evidence is gathered per
merchant and matched in one pass (``disputes.reanalysis_schedule``).

Starts a real Redis (the bundled one on a Unix socket in a temporary folder, or
``--redis-url``: give it a database of its own, its queues are purged), a database
(SQLite in the temporary folder, or ``--database-url``, migrated; only this run's merchant
is counted) and ONE ``celery -A config worker`` (``--concurrency``, default 2 prefork
children) listening to every queue, as ``make run`` does. Seeds a merchant with
``--claims`` (20) open claim photos analysed while it has no evidence: four are doctored
or re-saved copies of photos of the burst (coffee, astronaut, rocket, cat), the others
unrelated. Then uploads ``--photos`` (194) distinct reference photos (``--size``, default
1024×768) in ``--batches`` (1) uploads, each one transaction like one multi-file upload
of the evidence page, and waits until every photo is fingerprinted and the merchant's
re-analysis is done.

Prints the re-analysis task messages the worker received, the passes (``disputes.reanalyse``
audit events), the claim analyses the burst caused (``disputes.claim_image_analyze`` tasks
received after the upload) against the claims analysed again (each exactly once?), and
the time from the end of the upload to the last analysis. The last line is JSON.

Run from the repository root (≈2–4 minutes on 2 cores)::

    .venv/bin/python benchmarks/evidence_burst.py
    .venv/bin/python benchmarks/evidence_burst.py --photos 194 --batches 4 --concurrency 1
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

from benchmarks.isolated_django import isolated_django

REANALYSE_TASK = "disputes.merchant_reanalyse"
ANALYSE_TASK = "disputes.claim_image_analyze"
_RECEIVED = re.compile(
    r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d{3}: .*Task (\S+)\[[0-9a-f-]+\] received"
)
SAMPLES = ("coffee", "astronaut", "rocket", "chelsea")


def _sample(name: str):  # type: ignore[no-untyped-def]
    import numpy as np
    from PIL import Image
    from skimage import data

    return Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")


def _shot(seed: int, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    """A distinct synthetic product photo (shapes over a textured ground)."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    ground = rng.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    image = Image.fromarray(ground).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x0, y0 = int(rng.integers(0, size[0] - 80)), int(rng.integers(0, size[1] - 80))
        x1, y1 = x0 + int(rng.integers(60, size[0] // 3)), y0 + int(rng.integers(60, size[1] // 3))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour, outline=(0, 0, 0), width=4)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour, outline=(255, 255, 255), width=4)
    return image


def _jpeg(image, quality: int = 90) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _received(log: Path, since: float) -> dict[str, int]:
    """Task messages the worker received at or after ``since`` (epoch seconds), by name."""
    from datetime import datetime

    counts: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        found = _RECEIVED.search(line)
        if found is None:
            continue
        when = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").timestamp()
        if when >= int(since):
            counts[found.group(2)] = counts.get(found.group(2), 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--photos", type=int, default=194)
    parser.add_argument("--batches", type=int, default=1, help="uploads the photos come in")
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--size", default="1024x768", help="the photos' size, WxH")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.photos < len(SAMPLES) or args.claims < len(SAMPLES) or args.batches < 1:
        parser.error(f"need --photos and --claims ≥ {len(SAMPLES)} and --batches ≥ 1")

    tmp = Path(tempfile.mkdtemp(prefix="rg-burst-"))
    redis_process = worker = None
    try:
        env, redis_process, redis_url = isolated_django(
            tmp, label="burst", redis_url=args.redis_url, database_url=args.database_url
        )
        from datetime import timedelta

        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.files.base import ContentFile
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.utils import timezone

        from config.celery import app as celery_app
        from core.models import AuditEvent
        from core.services import merchant_create
        from disputes import services as dispute_services
        from disputes.models import ClaimImage, Dispute, PendingEvidence, ReanalysisSchedule
        from evidence import services as evidence_services
        from evidence.demo import doctored_photo
        from evidence.models import ReferencePhoto

        call_command("migrate", verbosity=0)
        celery_app.control.purge()
        suffix = f"{os.getpid()}-{int(time.time())}"
        owner = get_user_model().objects.create_user(f"burst-owner-{suffix}")
        merchant = merchant_create(slug=f"burst-{suffix}", name="Burst shop", owner=owner)
        product = evidence_services.product_create(
            merchant=merchant, actor=owner, sku="MIX-1", title="Mixed goods"
        )
        log = tmp / "worker.log"
        with log.open("ab") as out:
            worker = subprocess.Popen(
                [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker",
                 "--loglevel", "INFO", "--concurrency", str(args.concurrency),
                 "--queues", ",".join(settings.TASK_QUEUES), "-n", f"burst-{suffix}@%h"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

        # Claims first, analysed while the merchant has no evidence.
        claims = [
            _jpeg(doctored_photo(_sample("coffee"))[0]),
            _jpeg(_sample("astronaut"), 80),
            _jpeg(doctored_photo(_sample("rocket"))[0]),
            _jpeg(_sample("chelsea").rotate(3), 85),
            *(_jpeg(_shot(10_000 + n, (1200, 900))) for n in range(args.claims - len(SAMPLES))),
        ]
        for n, data in enumerate(claims):
            dispute_services.dispute_open(
                merchant=merchant, actor=owner, platform="taobao", external_id=f"BURST-{n}",
                order_ref=f"ORDER-{n}", buyer_ref=f"buyer-{n}", product=None,
                claim_type="refund_only", reason="Arrived broken", amount="99.00",
                currency="CNY", respond_by=timezone.now() + timedelta(days=3),
                photos=[(ContentFile(data, name=f"claim-{n}.jpg"), f"claim-{n}.jpg")],
            )  # fmt: skip
        images = ClaimImage.objects.filter(merchant=merchant)
        deadline = time.time() + args.timeout
        while images.filter(analysis_status=ClaimImage.Status.ANALYSED).count() < len(claims):
            if time.time() > deadline:
                print("the claims were never analysed")
                return 1
            time.sleep(0.5)
        before = dict(images.values_list("pk", "processed_at"))

        # The burst.
        photos = [
            *(_jpeg(_sample(name).resize((width, height))) for name in SAMPLES),
            *(_jpeg(_shot(n, (width, height))) for n in range(args.photos - len(SAMPLES))),
        ]
        time.sleep(1.0)  # the log's clock has whole seconds: the burst starts in a new one
        started = time.time()
        per_batch = -(-len(photos) // args.batches)
        for b in range(args.batches):
            with transaction.atomic():
                for n, data in enumerate(photos[b * per_batch : (b + 1) * per_batch]):
                    name = f"photo-{b}-{n}.jpg"
                    evidence_services.photo_ingest(
                        product=product, upload=ContentFile(data, name=name), filename=name,
                        uploader=owner,
                    )  # fmt: skip
        uploaded = time.time()
        reference = ReferencePhoto.objects.filter(merchant=merchant)

        def settled() -> bool:
            return (
                not reference.exclude(status=ReferencePhoto.Status.FINGERPRINTED).exists()
                and not ReanalysisSchedule.objects.filter(merchant=merchant).exists()
                and not PendingEvidence.objects.filter(merchant=merchant).exists()
                and not images.exclude(analysis_status=ClaimImage.Status.ANALYSED).exists()
                and not Dispute.objects.filter(
                    merchant=merchant, status=Dispute.Status.ANALYSING
                ).exists()
            )

        while not settled():
            if time.time() > deadline:
                print("the burst never settled")
                return 1
            time.sleep(0.5)
        done = time.time()
        time.sleep(2.0)  # the worker's log catches up

        received = _received(log, started)
        passes = list(
            AuditEvent.objects.filter(merchant=merchant, action="disputes.reanalyse")
            .order_by("id")
            .values_list("data", flat=True)
        )
        after = dict(images.values_list("pk", "processed_at"))
        again = sorted(pk for pk in after if after[pk] != before[pk])
        analyses = received.get(ANALYSE_TASK, 0)
        matched = images.filter(findings__code="derived_from_original").distinct().count()
        once = analyses == len(again)
        print(
            f"{len(photos)} photos ({width}×{height}) in {args.batches} upload(s) of "
            f"{len(claims)} open claims' merchant ({connection.vendor}, "
            f"{'bundled Redis' if redis_process else redis_url}, worker prefork × "
            f"{args.concurrency}, every queue); uploaded in {uploaded - started:.1f} s"
        )
        print(f"re-analysis task messages received:      {received.get(REANALYSE_TASK, 0)}")
        print(f"re-analysis passes (disputes.reanalyse): {len(passes)}")
        print(
            f"claims queued by the passes:             "
            f"{sum(p.get('claim_images', 0) for p in passes)}"
        )
        print(f"claim analyses caused by the burst:      {analyses}")
        print(
            f"claims analysed again:                   {len(again)} "
            f"(each exactly once: {'yes' if once else 'NO'}); matched to an original now: "
            f"{matched} of {len(claims)}"
        )
        print(f"end of upload → last analysis:           {done - uploaded:.1f} s")
        print(
            json.dumps(
                {
                    "photos": len(photos),
                    "batches": args.batches,
                    "claims": len(claims),
                    "reanalyse_tasks": received.get(REANALYSE_TASK, 0),
                    "passes": len(passes),
                    "claim_analyses": analyses,
                    "claims_analysed_again": len(again),
                    "each_once": once,
                    "matched": matched,
                    "settle_s": round(done - uploaded, 1),
                }
            )
        )
        return 0 if once and len(passes) <= args.batches else 1
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        if redis_process is not None:
            from core import embedded_redis

            embedded_redis.stop(redis_process)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
