"""Benchmark: a Celery worker SIGKILLed in the middle of 20 claim photos; how soon after
its restart is every photo analysed, and is each analysed exactly once?

Starts a real Redis (the bundled one on a Unix socket in a temporary folder, or
``--redis-url`` / ``REDIS_URL``: give it a database of its own, its default queue is
purged), a database (SQLite in the temporary folder, or ``--database-url`` /
``DATABASE_URL``, migrated; only this run's merchant is counted), seeds a merchant with
a fingerprinted listing photo, and starts the production processes: ONE
``celery -A config worker`` (``--concurrency``, default 2 prefork children, as on a
2-core host) and ``celery -A config beat``, whose sweeper (``CELERY_BEAT_SCHEDULE``,
every minute) sends a ``processing`` row again once no live worker holds its task,
``REFUNDGUARD_PROCESSING_GRACE_SECONDS`` (120) after its upload at the earliest.

It opens ``--disputes`` (4) disputes holding ``--photos`` (20) claim photos in all through
``disputes.services.dispute_open`` (doctored copies of the listing photo and unrelated
photos, ~1300×850 to 1200×1200 JPEGs, each distinct), waits until ``--kill-after`` (5)
are analysed and another is being analysed, then SIGKILLs the worker's whole process
group (the main process and its pool children: no warm shutdown, no ack), restarts it
after ``--down`` (3) seconds, and measures the time from the restart until every photo
is analysed. Exactly once: one ``claim_image.analysed`` audit event per photo, no
``claim_image.failed``, no finding code twice on a photo. It also reads the workers'
logs: analysis tasks run to completion in each worker life, and what each sweep sent.

Target: every photo analysed within 5 minutes of the restart, each exactly once.

Run from the repository root (≈3–4 minutes)::

    .venv/bin/python benchmarks/sigkill.py
    .venv/bin/python benchmarks/sigkill.py --concurrency 1 --kill-after 10 --keep
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
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

from benchmarks.isolated_django import isolated_django

TARGET_SECONDS = 300.0
ANALYSE_TASK = "disputes.claim_image_analyze"
SWEEP_TASK = "core.stuck_work_requeue"
# "[2026-12-08 02:40:01,234: INFO/ForkPoolWorker-1] Task x[id] succeeded in 1.2s: None"
_STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})")
_SUCCEEDED = re.compile(r"Task (\S+)\[([0-9a-f-]+)\] succeeded in ([\d.]+)s: (.*)$")
_RECEIVED = re.compile(r"Task (\S+)\[([0-9a-f-]+)\] received")


def _photos(count: int) -> tuple[bytes, list[bytes]]:
    """(listing photo, ``count`` distinct claim photos): every other one a doctored copy
    of the listing, turned a little; the rest unrelated sample photos, cropped apart."""
    import numpy as np
    from PIL import Image
    from skimage import data

    from evidence.demo import doctored_photo

    def jpeg(image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        return out.getvalue()

    def sample(name: str) -> Image.Image:
        return Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")

    listing = sample("coffee").resize((1600, 1067))
    doctored, _ = doctored_photo(listing)
    others = [sample(n) for n in ("astronaut", "rocket", "chelsea", "hubble_deep_field")]
    claims = []
    for n in range(count):
        if n % 2 == 0:
            turned = doctored.rotate(n * 0.7, resample=Image.Resampling.BICUBIC, expand=False)
            claims.append(jpeg(turned))
        else:
            base = others[(n // 2) % len(others)]
            w, h = base.size
            cut = (n * 3, n * 2, w - n * 2, h - n * 3)
            claims.append(jpeg(base.crop(cut).resize((1200, 1200))))
    return jpeg(listing), claims


class Celery:
    """One ``celery -A config <role>`` process in its own process group, logging to a
    file of its own."""

    def __init__(self, role: list[str], env: dict[str, str], log: Path) -> None:
        self.role, self.env, self.log = role, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "celery"), "-A", "config", *self.role],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own: kill() reaches the pool too
            )

    def kill(self) -> None:
        """SIGKILL to the main process and its pool children at once, like a crash."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        """Warm shutdown; SIGKILL the group if it does not stop within 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def _log_events(log: Path) -> list[tuple[float, str, str, str]]:
    """(time, "received"/"succeeded", task name, result) for every task line of a log."""
    events = []
    if not log.exists():
        return events
    for line in log.read_text(errors="replace").splitlines():
        stamp = _STAMP.search(line)
        if stamp is None:
            continue
        when = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S").timestamp()
        when += int(stamp.group(2)) / 1000
        if done := _SUCCEEDED.search(line):
            events.append((when, "succeeded", done.group(1), done.group(4)))
        elif got := _RECEIVED.search(line):
            events.append((when, "received", got.group(1), ""))
    return events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="a Redis database of the run's own (default: the bundled Redis)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="default: SQLite in the temporary folder",
    )
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--disputes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's pool size")
    parser.add_argument(
        "--kill-after",
        type=int,
        default=5,
        help="SIGKILL once this many photos are analysed (and one is in hand)",
    )
    parser.add_argument("--down", type=float, default=3.0, help="seconds before the restart")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="give up this many seconds after the restart"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    if not 0 < args.kill_after < args.photos or not 0 < args.disputes <= args.photos:
        parser.error("need 0 < --kill-after < --photos and 0 < --disputes <= --photos")

    tmp = Path(tempfile.mkdtemp(prefix="rg-sigkill-"))
    redis_process = None
    worker = beat = None
    try:
        env, redis_process, redis_url = isolated_django(
            tmp, label="sigkill", redis_url=args.redis_url, database_url=args.database_url
        )
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.files.base import ContentFile
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from config.celery import app as celery_app
        from core.models import AuditEvent
        from core.services import merchant_create
        from disputes import services as dispute_services
        from disputes.models import ClaimImage, Finding
        from evidence import services as evidence_services

        call_command("migrate", verbosity=0)
        listing, claims = _photos(args.photos)
        suffix = f"{os.getpid()}-{int(time.time())}"
        owner = get_user_model().objects.create_user(f"sigkill-owner-{suffix}")
        merchant = merchant_create(slug=f"sigkill-{suffix}", name="SIGKILL shop", owner=owner)
        product = evidence_services.product_create(
            merchant=merchant, actor=owner, sku="MUG-1", title="Mug"
        )
        photo = evidence_services.photo_ingest(
            product=product, upload=ContentFile(listing, name="front.jpg"), filename="front.jpg",
            uploader=owner,
        ).obj  # fmt: skip
        evidence_services.photo_fingerprint(photo_id=photo.pk)
        # The listing's own fingerprint task and the re-analysis its new evidence schedules
        # would only redo that work: start from an empty queue.
        purged = celery_app.control.purge()

        worker = Celery(
            ["worker", "--loglevel", "INFO", "-n", "sigkill@%h",
             "--concurrency", str(args.concurrency)],
            env, tmp / "worker-1.log",
        )  # fmt: skip
        beat = Celery(["beat", "--loglevel", "INFO"], env, tmp / "beat.log")
        beat.start()
        worker.start()
        images = ClaimImage.objects.filter(merchant=merchant)

        def counts() -> Counter[str]:
            return Counter(images.values_list("analysis_status", flat=True))

        per = [args.photos // args.disputes + (d < args.photos % args.disputes)
               for d in range(args.disputes)]  # fmt: skip
        uploaded = time.time()
        n = 0
        for d, size in enumerate(per):
            dispute_services.dispute_open(
                merchant=merchant, actor=owner, platform="taobao", external_id=f"KILL-{d}",
                order_ref=f"ORDER-{d}", buyer_ref=f"buyer-{d}", product=product,
                claim_type="refund_only", reason="Arrived cracked", amount="129.00",
                currency="CNY", respond_by=timezone.now() + timedelta(days=2),
                photos=[(ContentFile(claims[n + i], name=f"claim-{n + i}.jpg"),
                         f"claim-{n + i}.jpg") for i in range(size)],
            )  # fmt: skip
            n += size
        uploads_done = time.time()
        print(
            f"{args.photos} claim photos in {args.disputes} disputes uploaded in "
            f"{uploads_done - uploaded:.1f} s ({connection.vendor}, "
            f"{'bundled Redis' if redis_process else redis_url}; purged {purged} queued "
            f"task(s) of the seeding); worker: prefork × {args.concurrency}, beat sweeper "
            f"every {settings.CELERY_BEAT_SCHEDULE['requeue-stuck-work']['schedule']:.0f} s, "
            f"grace {settings.PROCESSING_GRACE_SECONDS} s"
        )

        deadline = time.time() + 300
        while True:
            now = counts()
            if now["analysed"] >= args.kill_after and now["processing"] >= 1:
                break
            if now["analysed"] + now["failed"] == args.photos or time.time() > deadline:
                print(f"could not kill mid-batch: {dict(now)}")
                return 1
            time.sleep(0.05)
        worker.kill()
        killed = time.time()
        at_kill = counts()
        in_flight = sorted(images.filter(analysis_status="processing").values_list("pk", flat=True))
        print(
            f"SIGKILL at +{killed - uploads_done:.1f} s after the uploads: "
            f"{at_kill['analysed']} analysed, {at_kill['processing']} processing "
            f"(ids {in_flight}), {at_kill['pending']} pending"
        )
        time.sleep(args.down)
        worker.log = tmp / "worker-2.log"
        worker.start()
        restarted = time.time()
        drained = all_done = None
        while time.time() - restarted < args.timeout:
            now = counts()
            if drained is None and now["pending"] == 0:
                drained = time.time()
            if now["analysed"] + now["failed"] == args.photos:
                all_done = time.time()
                break
            time.sleep(0.25)
        final = counts()

        # Exactly once.
        events = Counter(
            data.get("claim_image")
            for data in AuditEvent.objects.filter(
                merchant=merchant, action="claim_image.analysed"
            ).values_list("data", flat=True)
        )
        failed_events = AuditEvent.objects.filter(
            merchant=merchant, action="claim_image.failed"
        ).count()
        ids = set(images.values_list("pk", flat=True))
        once = set(events) == ids and set(events.values()) == {1}
        duplicated_findings = 0
        for pk in ids:
            codes = list(Finding.objects.filter(claim_image_id=pk).values_list("code", flat=True))
            duplicated_findings += len(codes) - len(set(codes))
        with celery_app.connection_for_write() as conn:
            unacked = int(conn.default_channel.client.hlen("unacked"))

        # What the workers' logs say.
        lives = []
        for log in (tmp / "worker-1.log", tmp / "worker-2.log"):
            evs = _log_events(log)
            done = [e for e in evs if e[1] == "succeeded"]
            lives.append(
                {
                    "received": sum(1 for e in evs if e[1] == "received" and e[2] == ANALYSE_TASK),
                    "completed": sum(1 for e in done if e[2] == ANALYSE_TASK),
                    "sweeps": [(e[0], e[3]) for e in done if e[2] == SWEEP_TASK],
                }
            )
        resent = []
        for when, result in lives[1]["sweeps"]:
            match = re.search(r"'claim photos': (\d+)", result)
            if match and int(match.group(1)):
                resent.append((when - restarted, int(match.group(1))))

        def at(moment: float | None) -> str:
            return f"{moment - restarted:8.1f}" if moment is not None else "       -"

        print()
        print(f"{'event':<44} {'s after restart':>15}")
        print(f"{'worker SIGKILLed (whole process group)':<44} {at(killed):>15}")
        print(f"{'worker restarted':<44} {at(restarted):>15}")
        print(f"{'no photo pending any more':<44} {at(drained):>15}")
        for when, sent in resent:
            print(f"{f'sweep sent {sent} claim photo(s) again':<44} {when:>15.1f}")
        print(f"{'every photo analysed':<44} {at(all_done):>15}")
        print()
        print(f"{'worker life':<14} {'analysis tasks received':>24} {'run to completion':>18}")
        for name, life in zip(("before kill", "after restart"), lives, strict=True):
            print(f"{name:<14} {life['received']:>24} {life['completed']:>18}")
        print()
        seconds = all_done - restarted if all_done is not None else None
        print(
            f"photos: {final['analysed']} of {args.photos} analysed, {final['failed']} failed; "
            f"'claim_image.analysed' events: {sum(events.values())} for {len(events)} photos "
            f"(exactly one each: {'yes' if once else 'NO'}), 'claim_image.failed': "
            f"{failed_events}, finding codes repeated on a photo: {duplicated_findings}; "
            f"messages still unacked in Redis (the killed worker's, redelivered after the "
            f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']} s visibility "
            f"timeout and skipped as analysed): {unacked}"
        )
        met = (
            seconds is not None
            and seconds <= TARGET_SECONDS
            and final["analysed"] == args.photos
            and once
            and failed_events == 0
            and duplicated_findings == 0
        )
        took = f"{seconds:.1f} s" if seconds is not None else f"not within {args.timeout:.0f} s"
        print(
            f"restart → all {args.photos} analysed: {took}; target ≤ {TARGET_SECONDS:.0f} s, "
            f"each exactly once: {'MET' if met else 'NOT MET'}"
        )
        print(
            json.dumps(
                {
                    "photos": args.photos,
                    "concurrency": args.concurrency,
                    "analysed_at_kill": at_kill["analysed"],
                    "processing_at_kill": at_kill["processing"],
                    "pending_at_kill": at_kill["pending"],
                    "restart_to_drained_s": round(drained - restarted, 1) if drained else None,
                    "restart_to_all_analysed_s": round(seconds, 1) if seconds else None,
                    "sweeps_resending": [[round(w, 1), s] for w, s in resent],
                    "analysed": final["analysed"],
                    "failed": final["failed"],
                    "analysed_events": sum(events.values()),
                    "exactly_once": once,
                    "unacked_left": unacked,
                    "target_s": TARGET_SECONDS,
                    "target_met": met,
                }
            )
        )
        return 0 if met else 1
    finally:
        for process in (worker, beat):
            if process is not None:
                process.stop()
        if redis_process is not None:
            from core import embedded_redis

            embedded_redis.stop(redis_process)
        if args.keep:
            print(f"kept {tmp} (worker-1.log, worker-2.log, beat.log)", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
