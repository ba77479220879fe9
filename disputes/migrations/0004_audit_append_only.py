"""On PostgreSQL the database itself refuses to change or delete an audit event.

(The model refuses too, but ``QuerySet.update`` and raw SQL bypass the model.) TRUNCATE
stays possible: it is how test databases are emptied, and it needs table ownership.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION refundguard_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS disputes_auditevent_append_only ON disputes_auditevent;
CREATE TRIGGER disputes_auditevent_append_only
    BEFORE UPDATE OR DELETE ON disputes_auditevent
    FOR EACH ROW EXECUTE FUNCTION refundguard_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS disputes_auditevent_append_only ON disputes_auditevent;
DROP FUNCTION IF EXISTS refundguard_audit_append_only();
"""


def _create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # no placeholders: keep the %


def _drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("disputes", "0003_audit_ip")]

    operations = [migrations.RunPython(_create, _drop)]
