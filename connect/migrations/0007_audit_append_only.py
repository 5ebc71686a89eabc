"""The audit log is append-only: PostgreSQL refuses to change or delete its rows.

One change is let through: detaching the actor (`actor_id` to NULL, nothing else changed),
which is what deleting a user does (`on_delete=SET_NULL`); the entry itself stays.
"""

from django.db import migrations, models

AUDIT_SQL = """
CREATE FUNCTION connect_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.actor_id IS NULL
        AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER connect_auditentry_append_only
    BEFORE UPDATE OR DELETE ON connect_auditentry
    FOR EACH ROW EXECUTE FUNCTION connect_audit_refuse_change();
"""

AUDIT_SQL_REVERSE = """
DROP TRIGGER connect_auditentry_append_only ON connect_auditentry;
DROP FUNCTION connect_audit_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("connect", "0006_creator_access_tokens"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["created_at", "id"], name="audit_created_id_idx"),
        ),
        migrations.RunSQL(AUDIT_SQL, AUDIT_SQL_REVERSE),
    ]
