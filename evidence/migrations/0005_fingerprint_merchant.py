# The fingerprint's merchant, copied from its photo or its keyframe's video so the
# evidence index's signature is one index range. Added nullable and filled here (in
# batches); 0006 makes it required in its own transaction, as PostgreSQL will not alter a
# table with the foreign-key checks of these updates still pending.

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

BATCH = 5000


def fill_merchant(apps, schema_editor):
    Fingerprint = apps.get_model("evidence", "Fingerprint")
    ReferencePhoto = apps.get_model("evidence", "ReferencePhoto")
    VideoKeyframe = apps.get_model("evidence", "VideoKeyframe")
    photo_merchant = ReferencePhoto.objects.filter(pk=OuterRef("reference_photo_id")).values(
        "merchant_id"
    )[:1]
    keyframe_merchant = VideoKeyframe.objects.filter(pk=OuterRef("keyframe_id")).values(
        "video__merchant_id"
    )[:1]
    last = 0
    while True:
        ids = list(
            Fingerprint.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return
        batch = Fingerprint.objects.filter(pk__gte=ids[0], pk__lte=ids[-1])
        batch.filter(reference_photo__isnull=False).update(merchant_id=Subquery(photo_merchant))
        batch.filter(keyframe__isnull=False).update(merchant_id=Subquery(keyframe_merchant))
        last = ids[-1]


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_merchant_time_zone"),
        ("evidence", "0004_tenancy_moved"),
    ]

    operations = [
        migrations.AddField(
            model_name="fingerprint",
            name="merchant",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.merchant",
            ),
        ),
        migrations.RunPython(fill_merchant, migrations.RunPython.noop),
    ]
