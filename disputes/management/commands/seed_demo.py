"""Load a small demo: two merchants, their users, products with photos, a packing
video and a dispute with doctored claim photos. Safe to run again (same bytes are
recognised, users are not duplicated)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.models import Membership, Merchant, Reviewer
from disputes.models import Dispute
from disputes.services import dispute_decide, dispute_open
from evidence import demo, services
from evidence.models import Product

DEMO_PASSWORD = "refundguard-demo"  # noqa: S105 - printed for the local demo on purpose
DEMO_USERS = (
    # username, merchant slug, role
    ("demo-owner", "demo-shop", Membership.Role.OWNER),
    ("demo-agent", "demo-shop", Membership.Role.AGENT),
    ("other-owner", "other-shop", Membership.Role.OWNER),
)


class Command(BaseCommand):
    help = "Create the demo merchants, users, products, photos and packing video."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        with transaction.atomic():
            shops = {
                # Both sell on Chinese platforms: deadlines are typed in China time.
                "demo-shop": Merchant.objects.get_or_create(
                    slug="demo-shop",
                    defaults={"name": "Demo Tea & Gifts", "time_zone": "Asia/Shanghai"},
                )[0],
                "other-shop": Merchant.objects.get_or_create(
                    slug="other-shop",
                    defaults={"name": "Other Shop Ltd", "time_zone": "Asia/Shanghai"},
                )[0],
            }
            for username, slug, role in DEMO_USERS:
                user, created = User.objects.get_or_create(username=username)
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                Membership.objects.get_or_create(
                    user=user, merchant=shops[slug], defaults={"role": role}
                )
            reviewer, created = User.objects.get_or_create(username="demo-reviewer")
            if created:
                reviewer.set_password(DEMO_PASSWORD)
                reviewer.save()
            Reviewer.objects.get_or_create(user=reviewer, defaults={"all_merchants": True})
            admin, created = User.objects.get_or_create(
                username="admin", defaults={"is_staff": True, "is_superuser": True}
            )
            if created:
                admin.set_password(DEMO_PASSWORD)
                admin.save()
        owner = User.objects.get(username="demo-owner")
        shop = shops["demo-shop"]
        stored = 0
        for item, filename, jpeg in demo.demo_photos():
            product = services.product_get_or_create(
                merchant=shop, actor=owner, sku=item.sku, title=item.title
            )
            outcome = services.photo_ingest(
                product=product,
                upload=ContentFile(jpeg, name=filename),
                filename=filename,
                uploader=owner,
            )
            stored += outcome.is_new
        services.video_ingest(
            merchant=shop,
            order_ref="DEMO-1001",
            upload=ContentFile(demo.packing_video_mp4(), name="DEMO-1001.mp4"),
            filename="DEMO-1001.mp4",
            uploader=owner,
        )
        self._demo_dispute(shop, owner, reviewer)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: merchant 'demo-shop', {stored} new photo(s), packing video "
                "of order DEMO-1001.\n"
                f"  Merchant logins: demo-owner / {DEMO_PASSWORD}   (other merchant: other-owner)\n"
                f"  Support staff:   demo-reviewer / {DEMO_PASSWORD}   (the review queue)\n"
                f"  Admin (/admin/): admin / {DEMO_PASSWORD}"
            )
        )

    def _demo_dispute(self, shop: Merchant, owner: Any, reviewer: Any) -> None:
        if Dispute.objects.filter(merchant=shop, external_id="TB-DEMO-0001").exists():
            return
        # An earlier claim by the same buyer, already decided: the buyer's history.
        earlier = dispute_open(
            merchant=shop,
            actor=owner,
            platform=Dispute.Platform.TAOBAO,
            external_id="TB-DEMO-0000",
            order_ref="DEMO-0950",
            buyer_ref="tb_buyer_8812",
            product=None,
            claim_type=Dispute.ClaimType.REFUND_ONLY,
            reason="Parcel arrived late.",
            amount=Decimal("45.00"),
            currency="CNY",
            opened_at=timezone.now() - timedelta(days=40),
            respond_by=timezone.now() - timedelta(days=38),
            photos=[],
        )
        dispute_decide(
            dispute=earlier,
            actor=reviewer,
            outcome=Dispute.Status.REFUND_APPROVED,
            note="Courier confirmed the delay.",
        )
        dispute_open(
            merchant=shop,
            actor=owner,
            platform=Dispute.Platform.TAOBAO,
            external_id="TB-DEMO-0001",
            order_ref="DEMO-1001",
            buyer_ref="tb_buyer_8812",
            product=Product.objects.filter(merchant=shop, sku="MUG-001").first(),
            claim_type=Dispute.ClaimType.REFUND_ONLY,
            reason="The cup arrived cracked and stained (仅退款).",
            amount=Decimal("129.00"),
            currency="CNY",
            respond_by=timezone.now() + timedelta(days=2),
            photos=[
                (ContentFile(data, name=name), name) for name, data in demo.demo_claim_photos()
            ],
        )
