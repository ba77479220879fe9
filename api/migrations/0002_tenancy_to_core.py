# Merchants moved to ``core`` with their table: the foreign keys now name core.Merchant.
# State only.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0001_initial'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='apitoken',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to='core.merchant'),
                ),
                migrations.AlterField(
                    model_name='chunkedupload',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.merchant'),
                ),
                migrations.AlterField(
                    model_name='webhookendpoint',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhooks', to='core.merchant'),
                ),
                migrations.AlterField(
                    model_name='idempotencyrecord',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.merchant'),
                ),
            ],
            database_operations=[],
        ),
    ]
