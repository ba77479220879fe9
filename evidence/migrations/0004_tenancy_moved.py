# The tenancy models now live in ``core`` (same tables): forget them here, once every
# foreign key in every app names core.Merchant. State only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0003_tenancy_to_core'),
        ('disputes', '0006_tenancy_and_audit_to_core'),
        ('api', '0002_tenancy_to_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Membership'),
                migrations.DeleteModel(name='Reviewer'),
                migrations.DeleteModel(name='Merchant'),
            ],
            database_operations=[],
        ),
    ]
