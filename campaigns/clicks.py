"""Clicks: ids, the Redis buffer between the redirect and PostgreSQL, and the partitioned
table's upkeep.

The tracking redirect never writes to the database. It pushes one compact record per
counted click onto a Redis list (in the same round trip as its cache lookup, see
campaigns/tracking.py, or with `click_buffer_push`); a beat task moves the records to
PostgreSQL in batches (`click_buffer_flush`):

1. A Lua script atomically pops up to `chunk_size` records from the pending list into a
   processing list of their own (`...:processing:<token>`) and registers the token with its
   start time in a sorted set. Two flushes, on any hosts, never claim the same records.
2. The records are COPied into a temporary table and inserted with
   `ON CONFLICT (click_id, clicked_at) DO NOTHING RETURNING ...`; the daily counters are
   upserted from exactly the rows that insert returned, in the same transaction.
3. After the commit, the processing list and its token are deleted.

A flush whose database write fails (PostgreSQL restarting, say) puts its records back on the
pending list at once, so the next flush, five seconds later, tries them again. A flush that
dies before its commit leaves its processing list behind; `click_buffer_recover` re-claims
lists older than two minutes and flushes them again. One that dies between the
commit and step 3 is re-flushed too, and the re-run inserts nothing and counts nothing,
because the rows are already there. So a click is stored once, whatever fails.

If Redis cannot take a click, the redirect stores it directly (`clicks_store`, one row):
a degraded mode that keeps the click at the cost of a database write on the request path.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import threading
import time
import uuid
from typing import Any, NamedTuple, cast

import psycopg
import redis
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

logger = logging.getLogger(__name__)

PARTITION_PREFIX = "campaigns_click_p"

# Redis keys of the buffer. The `{clicks}` hash tag keeps them in one slot of a Redis
# Cluster, which the Lua scripts (several keys at once) need.
PENDING_KEY = "connect:{clicks}:pending"
PROCESSING_SET_KEY = "connect:{clicks}:processing"
PROCESSING_LIST_PREFIX = "connect:{clicks}:processing:"

# Records per flush transaction: at a hundred million clicks a day a 5 s beat interval
# brings about 6,000, so a chunk usually holds everything that is pending.
FLUSH_CHUNK_SIZE = 10_000
# A flush keeps claiming chunks while the backlog lasts, up to this many per run, so that a
# backlog (after an outage) drains over several runs and workers instead of in one giant
# transaction.
FLUSH_MAX_CHUNKS = 50
# A processing list older than this is taken to belong to a dead flush. A chunk commits in
# well under a second; the margin covers a slow database without racing a live flush (and
# even that race only costs a no-op re-insert).
RECOVER_AFTER_SECONDS = 120

USER_AGENT_MAX_LENGTH = 400
REFERRER_MAX_LENGTH = 400


# --- click ids ------------------------------------------------------------------------------


_RANDOM_CHUNK_BYTES = 4096
_randomness = threading.local()


def _forget_randomness() -> None:
    # In a forked child only the forking thread lives on: its buffer goes, so the child
    # never reuses random bytes its parent had drawn.
    _randomness.__dict__.clear()


os.register_at_fork(after_in_child=_forget_randomness)


def _random_bytes(count: int) -> bytes:
    """Bytes from the operating system's CSPRNG, drawn 4 KiB at a time per thread.

    os.urandom releases the GIL around its getrandom() call; in a threaded web server that
    is a switch to another thread, and back, on every redirect.
    """
    buffer: bytes = getattr(_randomness, "buffer", b"")
    offset: int = getattr(_randomness, "offset", 0)
    if offset + count > len(buffer):
        buffer, offset = os.urandom(_RANDOM_CHUNK_BYTES), 0
        _randomness.buffer = buffer
    _randomness.offset = offset + count
    return buffer[offset : offset + count]


def new_click_id(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then 74 random bits (unguessable)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(_random_bytes(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 64) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits
    return uuid.UUID(int=value)


def click_id_time(click_id: uuid.UUID) -> dt.datetime:
    """When the click behind a UUIDv7 click id happened (to the millisecond).

    Integer arithmetic, so the result is exactly the stored `clicked_at` (which the flush
    derives from the id): `click_resolve` looks the click up by equality on it.
    """
    ms = click_id.int >> 80
    seconds, millis = divmod(ms, 1000)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) + dt.timedelta(milliseconds=millis)


def parse_click_id(value: object) -> uuid.UUID | None:
    """The UUIDv7 click id in `value` (a UUID or its text), or None if it is not one."""
    if isinstance(value, uuid.UUID):
        parsed = value
    else:
        try:
            parsed = uuid.UUID(str(value).strip())
        except ValueError:
            return None
    return parsed if parsed.version == 7 else None


# --- records --------------------------------------------------------------------------------


class ClickRecord(NamedTuple):
    """One counted click as it travels through Redis. `clicked_at` is not carried: it is
    the time inside the click id."""

    click_id: uuid.UUID
    collaboration_id: int
    ip_hash: str
    user_agent: str
    referrer: str

    @property
    def clicked_at(self) -> dt.datetime:
        return click_id_time(self.click_id)

    def encode(self) -> str:
        """A compact JSON array, collaboration id first: about 250 bytes for a browser click.

        The redirect's Lua script builds the same text from `click_record_tail` and the
        collaboration id it finds in the tracking cache.
        """
        tail = click_record_tail(
            click_id=self.click_id,
            ip_hash=self.ip_hash,
            user_agent=self.user_agent,
            referrer=self.referrer,
        )
        return f"[{self.collaboration_id},{tail}"

    @classmethod
    def decode(cls, raw: bytes | str) -> ClickRecord:
        """Parse and check a record; ValueError if it is not one (so it cannot poison a
        batch insert)."""
        try:
            collaboration_id, click_hex, ip_hash, user_agent, referrer = json.loads(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a click record: {raw!r}") from exc
        click_id = parse_click_id(click_hex)
        if (
            click_id is None
            or type(collaboration_id) is not int
            or not all(isinstance(s, str) for s in (ip_hash, user_agent, referrer))
        ):
            raise ValueError(f"not a click record: {raw!r}")
        return cls(
            click_id=click_id,
            collaboration_id=collaboration_id,
            ip_hash=ip_hash[:64],
            user_agent=clean_header_text(user_agent, USER_AGENT_MAX_LENGTH),
            referrer=clean_header_text(referrer, REFERRER_MAX_LENGTH),
        )


def click_record_tail(*, click_id: uuid.UUID, ip_hash: str, user_agent: str, referrer: str) -> str:
    """A click record without its opening `[collaboration_id,`: what the redirect knows
    before it has looked its code up."""
    return json.dumps(
        [click_id.hex, ip_hash, user_agent, referrer], separators=(",", ":"), ensure_ascii=False
    )[1:]


def clean_header_text(value: str, max_length: int) -> str:
    """A header value as a column can hold it: no NUL (PostgreSQL text refuses it), no
    lone surrogates, at most `max_length` characters."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    value = value[:max_length]
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


# --- the Redis buffer -----------------------------------------------------------------------

_clients: dict[str, redis.Redis] = {}


def redis_client(url: str) -> redis.Redis:
    """A client for `url`, one connection pool per process and URL (redis-py's pools are
    thread-safe and reset themselves after a fork).

    Short timeouts: when Redis is unreachable the redirect falls back to PostgreSQL, and a
    visitor should not wait seconds to find that out.
    """
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=0.25, socket_timeout=1.0, health_check_interval=30
        )
        _clients[url] = client
    return client


def click_buffer_url() -> str:
    """The Redis that buffers clicks: CLICK_BUFFER_REDIS_URL if set, else the cache's."""
    return settings.CLICK_BUFFER_REDIS_URL or cache_redis_url()


def cache_redis_url() -> str:
    """The (first, primary) Redis of Django's default cache."""
    location = settings.CACHES["default"]["LOCATION"]
    if isinstance(location, list | tuple):
        location = location[0]
    return str(location).split(",")[0]


def click_buffer() -> redis.Redis:
    return redis_client(click_buffer_url())


def click_buffer_push(record: ClickRecord) -> None:
    """Append one click to the pending list: a single RPUSH, one round trip.

    Raises redis.RedisError when Redis cannot take it; the caller decides the fallback.
    """
    click_buffer().rpush(PENDING_KEY, record.encode())


def click_buffer_backlog() -> dict[str, int]:
    """How many records wait: pending, and held by flushes in progress (or dead ones)."""
    client = click_buffer()
    tokens = cast(list[bytes], client.zrange(PROCESSING_SET_KEY, 0, -1))
    with client.pipeline(transaction=False) as pipe:
        pipe.llen(PENDING_KEY)
        for token in tokens:
            pipe.llen(_processing_key(token))
        pending, *held = pipe.execute()
    return {"pending": pending, "processing": sum(held), "flushes": len(tokens)}


# KEYS: pending list, processing set, this flush's processing list.
# ARGV: how many, now (Unix seconds), token.
_CLAIM_SCRIPT = """
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if not items then return {} end
for i = 1, #items, 1000 do
    redis.call('RPUSH', KEYS[3], unpack(items, i, math.min(i + 999, #items)))
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return items
"""

# KEYS: processing set, the stale processing list, its new name.
# ARGV: stale token, cutoff (Unix seconds), now, new token.
# Renaming under a new token makes the claim exclusive: a second recoverer finds the old
# token gone, and the original flush, if it was only slow, deletes a key that no longer
# exists instead of the records being re-flushed.
_RECLAIM_SCRIPT = """
local started = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not started or tonumber(started) > tonumber(ARGV[2]) then return false end
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then return {} end
redis.call('RENAME', KEYS[2], KEYS[3])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
return redis.call('LRANGE', KEYS[3], 0, -1)
"""


# KEYS: processing set, this flush's processing list, pending list. ARGV: token.
# Gives a failed flush's records back to the pending list, unless a recoverer has taken the
# list over meanwhile (then the token is gone from the set and the recoverer owns them).
_UNCLAIM_SCRIPT = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
local items = redis.call('LRANGE', KEYS[2], 0, -1)
for i = 1, #items, 1000 do
    redis.call('RPUSH', KEYS[3], unpack(items, i, math.min(i + 999, #items)))
end
redis.call('DEL', KEYS[2])
return #items
"""


def _processing_key(token: bytes | str) -> str:
    if isinstance(token, bytes):
        token = token.decode()
    return f"{PROCESSING_LIST_PREFIX}{token}"


def _new_token() -> str:
    return secrets.token_hex(8)


def click_buffer_claim(*, count: int = FLUSH_CHUNK_SIZE) -> tuple[str, list[bytes]]:
    """Move up to `count` pending records into a new processing list, atomically; return
    its token and the records (none when nothing is pending)."""
    token = _new_token()
    client = click_buffer()
    items = client.eval(
        _CLAIM_SCRIPT,
        3,
        PENDING_KEY,
        PROCESSING_SET_KEY,
        _processing_key(token),
        count,
        time.time(),
        token,
    )
    return token, list(items)


def _release(token: str) -> None:
    """Forget a processing list whose records are committed."""
    with click_buffer().pipeline(transaction=True) as pipe:
        pipe.delete(_processing_key(token))
        pipe.zrem(PROCESSING_SET_KEY, token)
        pipe.execute()


def _unclaim(token: str) -> None:
    """Give the records of a flush whose database write failed back to the pending list.

    If Redis fails too, the processing list stays where it is for `click_buffer_recover`.
    Records that did commit before the failure (a lost answer to COMMIT) are stored again
    as no-ops, so nothing is counted twice.
    """
    try:
        returned = click_buffer().eval(
            _UNCLAIM_SCRIPT, 3, PROCESSING_SET_KEY, _processing_key(token), PENDING_KEY, token
        )
    except redis.RedisError:
        logger.exception("Could not return the clicks of flush %s; recovery will", token)
        return
    logger.warning("Returned %d clicks to the pending list after a failed flush", returned)


def _store_claimed(token: str, items: list[bytes]) -> int:
    records = []
    for raw in items:
        try:
            records.append(ClickRecord.decode(raw))
        except ValueError:
            logger.error("Dropping a malformed click record: %r", raw)
    try:
        stored = clicks_store(records)
    except (DatabaseError, psycopg.Error):  # COPY's errors are psycopg's own
        _unclaim(token)
        raise
    _release(token)
    return stored


def click_buffer_flush(
    *, chunk_size: int = FLUSH_CHUNK_SIZE, max_chunks: int = FLUSH_MAX_CHUNKS
) -> int:
    """Move pending clicks from Redis to PostgreSQL; return how many new clicks were stored.

    Safe to run on any number of workers at once: each chunk is claimed by exactly one.
    If the database fails, the chunk goes back to the pending list and the exception
    propagates; if the flush dies instead, its chunk waits for `click_buffer_recover`.
    """
    stored = 0
    for _chunk in range(max_chunks):
        token, items = click_buffer_claim(count=chunk_size)
        if not items:
            break
        stored += _store_claimed(token, items)
        if len(items) < chunk_size:
            break
    return stored


def click_buffer_recover(*, older_than_seconds: float = RECOVER_AFTER_SECONDS) -> int:
    """Re-flush processing lists left by flushes that died (or hang) for longer than
    `older_than_seconds`; return how many new clicks that stored.

    Each stale list is re-claimed atomically under a new token, so concurrent recoverers
    never share one. Re-inserting clicks that did commit before the flush died is a no-op.
    """
    client = click_buffer()
    now = time.time()
    cutoff = now - older_than_seconds
    stored = 0
    stale_tokens = cast(list[bytes], client.zrangebyscore(PROCESSING_SET_KEY, "-inf", cutoff))
    for stale in stale_tokens:
        token = _new_token()
        items = client.eval(
            _RECLAIM_SCRIPT,
            3,
            PROCESSING_SET_KEY,
            _processing_key(stale),
            _processing_key(token),
            stale,
            cutoff,
            now,
            token,
        )
        if items is None:
            continue  # another recoverer took it, or its flush finished meanwhile
        if items:
            logger.warning("Recovering %d clicks of an unfinished flush", len(items))
        stored += _store_claimed(token, list(items))
    return stored


# --- PostgreSQL -----------------------------------------------------------------------------

# Insert what is new, and count exactly that, per collaboration and per campaign and day:
# RETURNING yields only the rows this statement inserted, so a re-run of a committed chunk
# counts nothing. Clicks of a collaboration that no longer exists are kept but not counted
# (the counter has a foreign key). Rows go in key order so that two overlapping flushes lock
# in the same order instead of deadlocking.
_STORE_SQL = """
WITH inserted AS (
    INSERT INTO campaigns_click
        (click_id, clicked_at, collaboration_id, ip_hash, user_agent, referrer)
    SELECT click_id, clicked_at, collaboration_id, ip_hash, user_agent, referrer
    FROM {source}
    ORDER BY click_id
    ON CONFLICT (click_id, clicked_at) DO NOTHING
    RETURNING collaboration_id, clicked_at
), per_day AS (
    SELECT i.collaboration_id, c.campaign_id, (i.clicked_at AT TIME ZONE 'UTC')::date AS day,
           count(*) AS clicks
    FROM inserted i JOIN campaigns_collaboration c ON c.id = i.collaboration_id
    GROUP BY 1, 2, 3
), counted AS (
    INSERT INTO campaigns_clickdailycount (collaboration_id, day, clicks)
    SELECT collaboration_id, day, clicks FROM per_day
    ORDER BY 1, 2
    ON CONFLICT (collaboration_id, day)
    DO UPDATE SET clicks = campaigns_clickdailycount.clicks + EXCLUDED.clicks
), campaign_counted AS (
    INSERT INTO campaigns_campaignclickday (campaign_id, day, clicks)
    SELECT campaign_id, day, sum(clicks) FROM per_day
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (campaign_id, day)
    DO UPDATE SET clicks = campaigns_campaignclickday.clicks + EXCLUDED.clicks
)
SELECT count(*) FROM inserted
"""
_COLUMNS = "click_id, clicked_at, collaboration_id, ip_hash, user_agent, referrer"


def _row(record: ClickRecord) -> tuple[Any, ...]:
    return (
        record.click_id,
        record.clicked_at,
        record.collaboration_id,
        record.ip_hash,
        record.user_agent,
        record.referrer,
    )


@transaction.atomic
def clicks_store(records: list[ClickRecord]) -> int:
    """Insert clicks and add them to the daily counts, in one transaction; return how many
    were new. Clicks already stored (same id) are skipped and not counted again.

    Many records go through COPY into a temporary table (dropped at commit; its name is
    unique so that calls nested in one outer transaction do not collide); a single one, as
    the redirect's degraded mode stores it, goes in as a VALUES row.
    """
    if not records:
        return 0
    with default_connection.cursor() as cursor:
        if len(records) == 1:
            source = (
                f"(VALUES (%s::uuid, %s::timestamptz, %s::bigint, %s, %s, %s)) AS v({_COLUMNS})"
            )
            cursor.execute(_STORE_SQL.format(source=source), _row(records[0]))
        else:
            table = f"click_flush_{secrets.token_hex(6)}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE {table} (click_id uuid, clicked_at timestamptz, "
                "collaboration_id bigint, ip_hash text, user_agent text, referrer text) "
                "ON COMMIT DROP"
            )
            with cursor.copy(f"COPY {table} ({_COLUMNS}) FROM STDIN") as copy:
                for record in records:
                    copy.write_row(_row(record))
            cursor.execute(_STORE_SQL.format(source=table))
        return int(cursor.fetchone()[0])


# Equality on both key columns: the partition is pruned from the time inside the id, and
# the lookup is one primary-key probe in one day's partition.
CLICK_RESOLVE_SQL = (
    "SELECT collaboration_id, clicked_at FROM campaigns_click "
    "WHERE click_id = %s AND clicked_at = %s"
)


def click_resolve(click_id: uuid.UUID | str) -> tuple[int, dt.datetime] | None:
    """The collaboration and time of a stored click, or None (unknown, malformed, or not
    flushed yet: clicks reach the table within seconds of the redirect)."""
    parsed = parse_click_id(click_id)
    if parsed is None:
        return None
    with default_connection.cursor() as cursor:
        cursor.execute(CLICK_RESOLVE_SQL, [parsed, click_id_time(parsed)])
        row = cursor.fetchone()
    return (int(row[0]), row[1]) if row else None


# --- partitions -----------------------------------------------------------------------------


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


def click_partitions_maintain(*, retention_days: int) -> dict[str, list[str] | int]:
    """Hourly upkeep: create the coming days' partitions, drop the days past retention, and
    delete expired rows that landed in the default partition (a day without a partition).

    The daily counts are kept: they are small and the dashboards read them for history.
    """
    created = click_partitions_ensure()
    dropped = click_partitions_drop_older_than(days=retention_days)
    cutoff = dt.datetime.combine(
        timezone.now().date() - dt.timedelta(days=retention_days), dt.time(), tzinfo=dt.UTC
    )
    with default_connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_click_default WHERE clicked_at < %s", [cutoff])
        deleted = cursor.rowcount
    return {"created": created, "dropped": dropped, "deleted_from_default": deleted}


# Set on a daily partition once its IP hashes are blanked, so later runs skip it without
# reading it.
IP_HASH_EXPIRED_COMMENT = "ip_hash expired"


def click_ip_hashes_expire(*, days: int) -> dict[str, list[str] | int]:
    """Blank the IP hash of clicks made before the start of the day `days` days ago.

    Whole daily partitions older than that are updated in one statement each and then
    marked with a table comment; marked partitions are skipped, so a daily run reads only
    the day that just aged out. Rows waiting in the default partition are blanked by time.
    Safe to run again and from several hosts: an UPDATE of an already blank hash is skipped
    by its WHERE, and a second run finds the partitions marked.
    """
    cutoff_day = timezone.now().date() - dt.timedelta(days=days)
    cutoff = dt.datetime.combine(cutoff_day, dt.time(), tzinfo=dt.UTC)
    expired: list[str] = []
    with default_connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = 'campaigns_click' AND c.relname LIKE %s ORDER BY c.relname",
            [f"{PARTITION_PREFIX}%"],
        )
        partitions = cursor.fetchall()
    for name, comment in partitions:
        day = dt.datetime.strptime(name.removeprefix(PARTITION_PREFIX), "%Y%m%d").date()
        if day >= cutoff_day or comment == IP_HASH_EXPIRED_COMMENT:
            continue
        # The name is a catalogue's, and parsed as prefix + date just above.
        with transaction.atomic(), default_connection.cursor() as cursor:
            cursor.execute(f"UPDATE {name} SET ip_hash = '' WHERE ip_hash <> ''")  # noqa: S608
            cursor.execute(f"COMMENT ON TABLE {name} IS '{IP_HASH_EXPIRED_COMMENT}'")
        expired.append(name)
    with default_connection.cursor() as cursor:
        cursor.execute(
            "UPDATE campaigns_click_default SET ip_hash = '' "
            "WHERE clicked_at < %s AND ip_hash <> ''",
            [cutoff],
        )
        blanked_in_default = cursor.rowcount
    return {"partitions": expired, "blanked_in_default": blanked_in_default}
