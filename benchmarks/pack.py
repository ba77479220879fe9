"""Benchmark: does an evidence pack of a dispute with 10 claim photos and a 3-minute
packing video finish in under 20 seconds on one worker?

Seeds a throwaway SQLite database and media folder (under ``--workdir``, default a new
temporary folder): a merchant, 10 listing photos, the order's packing video (``--minutes``
long, 1280×720, 30 fps, H.264, moving content so it has real keyframes) and a dispute with
10 claim photos of 12 megapixels (doctored copies of the listing photos), all analysed
first (not timed). Then it builds the pack ``--repeats`` times exactly as the Celery task
does (``packs.services.evidence_pack_build``) on one CPU (``os.sched_setaffinity``) and
prints each run's wall time, the median, the PDF's pages and the ZIP's size, and checks
the ZIP with ``verify_pack``.

Run from the repository root::

    .venv/bin/python benchmarks/pack.py
    .venv/bin/python benchmarks/pack.py --claims 10 --minutes 3 --repeats 3
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# benchmarks/queue.py would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

TARGET_SECONDS = 20.0
SAMPLES = ["coffee", "astronaut", "chelsea", "rocket", "camera", "immunohistochemistry",
           "retina", "colorwheel", "logo", "hubble_deep_field"]  # fmt: skip


def _setup(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _sample(name: str, size: tuple[int, int]) -> Any:
    import numpy as np
    from PIL import Image
    from skimage import data

    image = Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")
    return image.resize(size)


def _jpeg(image: Any, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _video(seconds: int) -> bytes:
    """A packing-video stand-in: a scene that pans and changes every few seconds."""
    import av
    import numpy as np

    fps, width, height = 30, 1280, 720
    scene = np.asarray(_sample("chelsea", (2 * width, height)))
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps * 2)}
        for i in range(seconds * fps):
            shift = (i * 4) % width
            frame = np.ascontiguousarray(scene[:, shift : shift + width])
            if (i // (fps * 5)) % 2:
                frame = 255 - frame
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _seed(claims: int, minutes: float) -> tuple[Any, Any]:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from core.models import Membership, Merchant
    from disputes import services as dispute_services
    from evidence import services as evidence_services
    from evidence.demo import doctored_photo
    from evidence.models import Product

    user = get_user_model().objects.create_user("bench-owner", password="x")
    merchant = Merchant.objects.create(name="Bench shop")
    Membership.objects.create(user=user, merchant=merchant, role=Membership.Role.OWNER)
    product = Product.objects.create(merchant=merchant, sku="BENCH-1", title="Benchmark mug")
    photos = []
    for n in range(claims):
        listing = _sample(SAMPLES[n % len(SAMPLES)], (1600, 1200))
        outcome = evidence_services.photo_ingest(
            product=product,
            upload=ContentFile(_jpeg(listing), name=f"listing-{n}.jpg"),
            filename=f"listing-{n}.jpg",
            uploader=user,
        )
        doctored, _box = doctored_photo(listing)
        photos.append((ContentFile(_jpeg(doctored.resize((4032, 3024))), name=f"claim-{n}.jpg"),
                       f"claim-{n}.jpg"))  # fmt: skip
        assert outcome.obj is not None
    started = time.perf_counter()
    video = _video(round(minutes * 60))
    print(
        f"  packing video: {len(video) / 1e6:.1f} MB made in {time.perf_counter() - started:.0f} s"
    )
    evidence_services.video_ingest(
        merchant=merchant,
        order_ref="BENCH-ORDER",
        upload=ContentFile(video, name="BENCH-ORDER.mp4"),
        filename="BENCH-ORDER.mp4",
        uploader=user,
    )
    dispute = dispute_services.dispute_open(
        merchant=merchant,
        actor=user,
        platform="taobao",
        external_id="TB-BENCH-1",
        order_ref="BENCH-ORDER",
        buyer_ref="bench-buyer",
        product=product,
        claim_type="refund_only",
        reason="十件都碎了 — all ten arrived broken",
        amount="1299.00",
        currency="CNY",
        respond_by=timezone.now() + timedelta(days=2),
        photos=photos,
    )
    return user, dispute


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="refundguard-pack-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"evidence-pack benchmark in {workdir}")
    _setup(workdir)
    print(f"seeding: {args.claims} claim photos of 12 MP, a {args.minutes:g}-minute video …")
    user, dispute = _seed(args.claims, args.minutes)

    from django.core.files.storage import default_storage

    from evidence.models import PackingVideo, VideoKeyframe
    from packs import services
    from packs.archive import pack_verify
    from packs.models import EvidencePack

    video = PackingVideo.objects.get(order_ref="BENCH-ORDER")
    keyframes = VideoKeyframe.objects.filter(video=video).count()
    analysed = dispute.claim_images.filter(analysis_status="analysed").count()
    print(
        f"  video {video.duration_seconds:.0f} s, {keyframes} keyframes; {analysed} claims analysed"
    )
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    times = []
    for run in range(1, args.repeats + 1):
        pack = EvidencePack.objects.create(dispute=dispute, requested_by=user)
        started = time.perf_counter()
        services.evidence_pack_build(pack_id=pack.pk)
        elapsed = time.perf_counter() - started
        pack.refresh_from_db()
        assert pack.status == EvidencePack.Status.READY, pack.failure_reason
        problems = list(pack_verify(Path(default_storage.path(pack.archive.name))))
        times.append(elapsed)
        print(
            f"  run {run}: {elapsed:.2f} s · PDF {pack.pdf_pages} pages, "
            f"{default_storage.size(pack.pdf.name) / 1e6:.1f} MB · ZIP "
            f"{pack.archive_size / 1e6:.1f} MB · verify_pack: "
            f"{problems or 'intact'}"
        )
    median = statistics.median(times)
    verdict = "met" if max(times) < TARGET_SECONDS else "NOT met"
    print(
        f"evidence pack, {args.claims} claims + {args.minutes:g}-min video, one CPU: "
        f"median {median:.2f} s, worst {max(times):.2f} s "
        f"(target < {TARGET_SECONDS:.0f} s: {verdict})"
    )
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
