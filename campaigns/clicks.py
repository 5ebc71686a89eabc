"""Clicks: ids, the partitioned table's upkeep, and (in tracking) the Redis buffer."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

PARTITION_PREFIX = "campaigns_click_p"


def new_click_id(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then 74 random bits (unguessable)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 64) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits
    return uuid.UUID(int=value)


def click_id_time(click_id: uuid.UUID) -> dt.datetime:
    """When the click behind a UUIDv7 click id happened (to the millisecond)."""
    ms = click_id.int >> 80
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _partition_name(day: dt.date) -> str:
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


def click_partitions_ensure(
    *, days_back: int = 1, days_ahead: int = 7, connection: BaseDatabaseWrapper | None = None
) -> list[str]:
    """Create the daily partitions around today that do not exist yet; return their names.

    Safe to run any number of times and from several hosts (IF NOT EXISTS).
    """
    conn = connection or default_connection
    today = timezone.now().date()
    created = []
    with conn.cursor() as cursor:
        for offset in range(-days_back, days_ahead + 1):
            day = today + dt.timedelta(days=offset)
            name = _partition_name(day)
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is not None:
                continue
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            end = start + dt.timedelta(days=1)
            # A partition cannot be attached over rows already in the default partition for
            # its range; then the rows stay in the default partition, which still works.
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM campaigns_click_default "
                "WHERE clicked_at >= %s AND clicked_at < %s)",
                [start, end],
            )
            if cursor.fetchone()[0]:
                continue
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF campaigns_click "
                "FOR VALUES FROM (%s) TO (%s)",
                [start.isoformat(), end.isoformat()],
            )
            created.append(name)
    return created


def click_partitions_drop_older_than(*, days: int) -> list[str]:
    """Drop daily partitions entirely older than `days` days (retention)."""
    cutoff = timezone.now().date() - dt.timedelta(days=days)
    dropped = []
    with default_connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'campaigns_click' "
            "AND c.relname LIKE %s",
            [f"{PARTITION_PREFIX}%"],
        )
        for (name,) in cursor.fetchall():
            day = dt.datetime.strptime(name.removeprefix(PARTITION_PREFIX), "%Y%m%d").date()
            if day < cutoff:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
                dropped.append(name)
    return dropped
