# The audit trail moves here from ``disputes`` with its table (``disputes_auditevent``)
# and the PostgreSQL trigger that keeps it append-only: state only. The content types
# of every moved model are renamed too, so permissions and admin history follow them.

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

#: Old app label → models that now belong to ``core``.
MOVED = {'evidence': ('merchant', 'membership', 'reviewer'), 'disputes': ('auditevent',)}


def _relabel(apps, schema_editor, *, to_core):  # type: ignore[no-untyped-def]
    content_types = apps.get_model('contenttypes', 'ContentType').objects.db_manager(
        schema_editor.connection.alias
    )
    for old_label, names in MOVED.items():
        source, target = (old_label, 'core') if to_core else ('core', old_label)
        for name in names:
            if not content_types.filter(app_label=target, model=name).exists():
                content_types.filter(app_label=source, model=name).update(app_label=target)
    content_types.clear_cache()


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _relabel(apps, schema_editor, to_core=True)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _relabel(apps, schema_editor, to_core=False)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0001_initial'),
        ('disputes', '0006_tenancy_and_audit_to_core'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('action', models.CharField(max_length=40)),
                        ('data', models.JSONField(default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder)),
                        ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='client IP')),
                        ('created_at', models.DateTimeField()),
                        ('prev_hash', models.CharField(max_length=64)),
                        ('hash', models.CharField(max_length=64, unique=True)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.merchant')),
                        ('dispute', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to='disputes.dispute')),
                    ],
                    options={
                        'verbose_name': 'audit event',
                        'verbose_name_plural': 'audit events',
                        'db_table': 'disputes_auditevent',
                        'ordering': ['id'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
