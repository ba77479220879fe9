import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0005_fingerprint_merchant"),
    ]

    operations = [
        migrations.AlterField(
            model_name="fingerprint",
            name="merchant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.merchant",
            ),
        ),
        migrations.AddIndex(
            model_name="fingerprint",
            index=models.Index(
                fields=["merchant", "algorithm", "version", "id"], name="fingerprint_merchant"
            ),
        ),
    ]
