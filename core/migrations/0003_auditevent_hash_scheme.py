# The audit chain becomes keyed (HMAC-SHA256). Events already written keep their plain
# SHA-256 hashes and are marked so; new events default to the keyed scheme. Adding a
# column with a constant default rewrites no row, so the PostgreSQL trigger that refuses
# UPDATE on disputes_auditevent does not fire.

from django.db import migrations, models

SCHEMES = [("sha256", "SHA-256"), ("hmac-sha256", "HMAC-SHA256")]


class Migration(migrations.Migration):
    dependencies = [("core", "0002_auditevent")]

    operations = [
        # Existing rows take the legacy scheme through the column's default …
        migrations.AddField(
            model_name="auditevent",
            name="hash_scheme",
            field=models.CharField(choices=SCHEMES, default="sha256", max_length=16),
        ),
        # … and rows written from now on the keyed one: a Python-side default, so state
        # only (SQLite would otherwise copy the whole table again for nothing).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="hash_scheme",
                    field=models.CharField(choices=SCHEMES, default="hmac-sha256", max_length=16),
                ),
            ],
        ),
    ]
