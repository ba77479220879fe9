# Each merchant has a time zone (deadlines are typed and shown in it; stored in UTC) and
# each support reviewer their own. Existing merchants take Asia/Shanghai, reviewers UTC:
# adding a column with a constant default rewrites no stored time.

from django.db import migrations, models

import core.timezones


class Migration(migrations.Migration):
    dependencies = [("core", "0003_auditevent_hash_scheme")]

    operations = [
        migrations.AddField(
            model_name="merchant",
            name="time_zone",
            field=models.CharField(
                default="Asia/Shanghai",
                help_text="Deadlines are typed and shown in this zone, e.g. Asia/Shanghai.",
                max_length=64,
                validators=[core.timezones.validate_time_zone],
                verbose_name="time zone",
            ),
        ),
        migrations.AddField(
            model_name="reviewer",
            name="time_zone",
            field=models.CharField(
                default="UTC",
                help_text="Deadlines are also shown in this zone, beside the merchant's.",
                max_length=64,
                validators=[core.timezones.validate_time_zone],
                verbose_name="time zone",
            ),
        ),
    ]
