# Merchants moved to ``core`` with their table: the foreign keys now name core.Merchant.
# State only; the columns and constraints stay as they are.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('evidence', '0002_reviewer'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='product',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='products', to='core.merchant'),
                ),
                migrations.AlterField(
                    model_name='referencephoto',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.merchant'),
                ),
                migrations.AlterField(
                    model_name='packingvideo',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.merchant'),
                ),
            ],
            database_operations=[],
        ),
    ]
