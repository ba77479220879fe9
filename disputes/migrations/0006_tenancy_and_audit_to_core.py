# Merchants and the audit trail moved to ``core`` with their tables: the foreign keys
# now name core.Merchant, and AuditEvent leaves this app's state (core.0002 takes it
# over, on the same table and its append-only trigger). State only.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('disputes', '0005_buyer_key'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='dispute',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='disputes', to='core.merchant'),
                ),
                migrations.AlterField(
                    model_name='claimimage',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.merchant'),
                ),
                migrations.DeleteModel(name='AuditEvent'),
            ],
            database_operations=[],
        ),
    ]
