from django.db import migrations

# Clicks arrive at up to a hundred million a day: a table partitioned by day keeps each
# day's index small, makes pruning a DROP of old partitions, and lets attribution find a
# click by id within the one day its UUIDv7 names. A DEFAULT partition catches anything that
# arrives before its day's partition exists.
CREATE = """
CREATE TABLE campaigns_click (
    click_id uuid NOT NULL,
    clicked_at timestamp with time zone NOT NULL,
    collaboration_id bigint NOT NULL,
    ip_hash varchar(64) NOT NULL DEFAULT '',
    user_agent varchar(400) NOT NULL DEFAULT '',
    referrer varchar(400) NOT NULL DEFAULT '',
    PRIMARY KEY (click_id, clicked_at)
) PARTITION BY RANGE (clicked_at);
CREATE TABLE campaigns_click_default PARTITION OF campaigns_click DEFAULT;
CREATE INDEX campaigns_click_collab_time_idx ON campaigns_click (collaboration_id, clicked_at);
"""
DROP = "DROP TABLE IF EXISTS campaigns_click CASCADE;"


def create_upcoming_partitions(apps, schema_editor):
    from campaigns.clicks import click_partitions_ensure

    click_partitions_ensure(connection=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [
        migrations.RunSQL(CREATE, DROP),
        migrations.RunPython(create_upcoming_partitions, migrations.RunPython.noop),
    ]
