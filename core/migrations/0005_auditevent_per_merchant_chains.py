# The audit trail becomes one chain per merchant: each new event carries its position
# in its merchant's chain (``seq``, unique per merchant) and links to the merchant's
# previous event, so appends lock one merchant's chain instead of the whole table.
#
# Events already written are left exactly as they are (no row is updated, the
# append-only trigger stays on): without a position they form the closed platform-wide
# chain of that time, verified in id order as before. Re-hashing them into per-merchant
# chains would rewrite every hash the anchor log and the evidence packs already issued
# recorded (verify_custody would then report every anchored event as rewritten), and
# would key events that were only ever plain SHA-256 (anyone could have forged those).
#
# Adding a nullable column rewrites no row; the partial unique index is built on rows
# with a position only (none yet), the partial index of the closed chain on the rows
# already there (it never grows). On PostgreSQL a trigger refuses new events without a
# position, so a process still running the old code during a deploy fails loudly instead
# of appending to the closed chain.

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION refundguard_audit_chain_closed() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events need their position in their merchant''s chain'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS disputes_auditevent_chain_closed ON disputes_auditevent;
CREATE TRIGGER disputes_auditevent_chain_closed
    BEFORE INSERT ON disputes_auditevent
    FOR EACH ROW WHEN (NEW.seq IS NULL) EXECUTE FUNCTION refundguard_audit_chain_closed();
"""

DROP = """
DROP TRIGGER IF EXISTS disputes_auditevent_chain_closed ON disputes_auditevent;
DROP FUNCTION IF EXISTS refundguard_audit_chain_closed();
"""


def _create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def _drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_merchant_time_zone")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="position in the merchant's chain",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("seq__isnull", False)),
                fields=("merchant", "seq"),
                name="audit_event_merchant_seq",
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)),
                fields=["id"],
                name="audit_event_platform",
            ),
        ),
        migrations.RunPython(_create, _drop),
    ]
