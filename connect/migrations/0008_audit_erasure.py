"""Let personal data be erased from the audit log, and nothing else be changed in it.

The append-only trigger (migration 0007) gains a second exception: a transaction that has
set `connect.audit_erasure` to `on` (`SET LOCAL`, as deleting an account does) may replace
values in an entry's `before` and `after` with the marker `"[erased]"`. The entry keeps its
time, actor, action, object and every key; any other change is still refused.
"""

from django.db import migrations

ERASURE_SQL = """
CREATE FUNCTION connect_audit_only_erased(old jsonb, new jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(old) = 'object' AND jsonb_typeof(new) = 'object'
        AND ARRAY(SELECT jsonb_object_keys(old) ORDER BY 1)
            = ARRAY(SELECT jsonb_object_keys(new) ORDER BY 1)
        AND NOT EXISTS (
            SELECT 1 FROM jsonb_each(new) AS n
            WHERE n.value IS DISTINCT FROM old -> n.key AND n.value <> '"[erased]"'::jsonb
        )
$$;

CREATE OR REPLACE FUNCTION connect_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.actor_id IS NULL
        AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
        AND current_setting('connect.audit_erasure', true) = 'on'
        AND (to_jsonb(NEW) - 'before' - 'after') = (to_jsonb(OLD) - 'before' - 'after')
        AND connect_audit_only_erased(OLD.before, NEW.before)
        AND connect_audit_only_erased(OLD.after, NEW.after) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""

ERASURE_SQL_REVERSE = """
CREATE OR REPLACE FUNCTION connect_audit_refuse_change() RETURNS trigger
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
DROP FUNCTION connect_audit_only_erased(jsonb, jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("connect", "0007_audit_append_only"),
    ]

    operations = [
        migrations.RunSQL(ERASURE_SQL, ERASURE_SQL_REVERSE),
    ]
