# The claim photo's pHash cut into four indexed 16-bit bands (forensics.phash_bands), so
# the reuse check is an index lookup instead of a loop over every claim photo. Existing
# rows are filled in batches before the indexes are built and the check is added.

from django.db import migrations, models

BATCH = 2000
BAND_FIELDS = ("phash_band0", "phash_band1", "phash_band2", "phash_band3")


def fill_bands(apps, schema_editor):
    # Frozen here rather than imported: a migration keeps meaning what it meant.
    ClaimImage = apps.get_model("disputes", "ClaimImage")
    last = 0
    while True:
        rows = list(
            ClaimImage.objects.filter(pk__gt=last, phash__isnull=False)
            .order_by("pk")
            .only("pk", "phash")[:BATCH]
        )
        if not rows:
            return
        for row in rows:
            number = int.from_bytes(bytes(row.phash), "big")
            for i, field in enumerate(BAND_FIELDS):
                setattr(row, field, (number >> (16 * (3 - i))) & 0xFFFF)
        ClaimImage.objects.bulk_update(rows, BAND_FIELDS)
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0008_finding_code_credentials_invalid"),
    ]

    operations = [
        migrations.AddField(
            model_name="claimimage",
            name="phash_band0",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="claimimage",
            name="phash_band1",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="claimimage",
            name="phash_band2",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="claimimage",
            name="phash_band3",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_bands, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="claimimage",
            index=models.Index(fields=["phash_band0"], name="claim_image_phash_band0"),
        ),
        migrations.AddIndex(
            model_name="claimimage",
            index=models.Index(fields=["phash_band1"], name="claim_image_phash_band1"),
        ),
        migrations.AddIndex(
            model_name="claimimage",
            index=models.Index(fields=["phash_band2"], name="claim_image_phash_band2"),
        ),
        migrations.AddIndex(
            model_name="claimimage",
            index=models.Index(fields=["phash_band3"], name="claim_image_phash_band3"),
        ),
        migrations.AddConstraint(
            model_name="claimimage",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    phash__isnull=True,
                    phash_band0__isnull=True,
                    phash_band1__isnull=True,
                    phash_band2__isnull=True,
                    phash_band3__isnull=True,
                )
                | models.Q(
                    phash__isnull=False,
                    phash_band0__isnull=False,
                    phash_band1__isnull=False,
                    phash_band2__isnull=False,
                    phash_band3__isnull=False,
                ),
                name="claim_image_phash_bands",
            ),
        ),
    ]
