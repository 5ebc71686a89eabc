"""The click pipeline: Redis buffer → PostgreSQL, exactly once, whatever fails."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from campaigns import clicks
from campaigns.clicks import (
    CLICK_RESOLVE_SQL,
    PENDING_KEY,
    PROCESSING_SET_KEY,
    ClickRecord,
    click_buffer,
    click_buffer_backlog,
    click_buffer_claim,
    click_buffer_flush,
    click_buffer_push,
    click_buffer_recover,
    click_id_time,
    click_partitions_maintain,
    click_resolve,
    new_click_id,
)
from campaigns.models import Click, ClickDailyCount, Collaboration
from config.celery import app as celery_app
from tests.campaigns.factories import CollaborationFactory

ROOT = Path(__file__).resolve().parents[2]
NOW_MS = int(time.time() * 1000)
DAY_MS = 86_400_000


def record(collaboration_id: int, *, at_ms: int | None = None, n: int = 0) -> ClickRecord:
    return ClickRecord(
        click_id=new_click_id(at_ms),
        collaboration_id=collaboration_id,
        ip_hash=f"{n:064x}",
        user_agent=f"Mozilla/5.0 test {n}",
        referrer="https://www.instagram.com/",
    )


def push_many(records: list[ClickRecord]) -> None:
    client = click_buffer()
    for start in range(0, len(records), 5000):
        client.rpush(PENDING_KEY, *(r.encode() for r in records[start : start + 5000]))


def daily_counts() -> dict[tuple[int, dt.date], int]:
    return {
        (c.collaboration_id, c.day): c.clicks
        for c in ClickDailyCount.objects.order_by("collaboration_id", "day")
    }


def processing_tokens() -> list[bytes]:
    return click_buffer().zrange(PROCESSING_SET_KEY, 0, -1)


@pytest.fixture
def click_table(transactional_db: None) -> Iterator[None]:
    """Transactional tests commit clicks, and the flush between tests only empties managed
    tables: the partitioned click table is emptied here."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE campaigns_click")


# --- click ids --------------------------------------------------------------------------------


def test_a_click_id_carries_its_time_to_the_millisecond() -> None:
    # given
    at_ms = 1_767_225_600_123  # 2026-01-01 00:00:00.123 UTC

    # when
    click_id = new_click_id(at_ms)

    # then
    assert click_id.version == 7
    assert click_id_time(click_id) == dt.datetime(2026, 1, 1, 0, 0, 0, 123_000, tzinfo=dt.UTC)


def test_a_forked_process_does_not_reuse_its_parents_random_bytes() -> None:
    # given: the parent has drawn random bytes in advance
    new_click_id()
    read_end, write_end = os.pipe()

    # when
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write_end, new_click_id().bytes)
        os._exit(0)
    os.waitpid(pid, 0)
    childs = uuid.UUID(bytes=os.read(read_end, 16))
    parents = new_click_id()

    # then: the 74 random bits differ
    assert childs.int & ((1 << 74) - 1) != parents.int & ((1 << 74) - 1)


def test_a_record_survives_its_trip_through_redis() -> None:
    original = ClickRecord(new_click_id(), 42, "ab" * 32, "Mozilla/5.0 ąę", "https://x.example/")
    assert ClickRecord.decode(original.encode().encode()) == original


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1,2]",
        b'["zz",1,"","",""]',
        b'["0190f3a2b4c57d3e8f9a0b1c2d3e4f50","1","","",""]',
    ],
)
def test_a_malformed_record_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        ClickRecord.decode(raw)


# --- flush ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_flush_stores_every_click_and_the_exact_daily_counts() -> None:
    # given: three clicks today for one collaboration, one today and two yesterday for another
    first, second = CollaborationFactory(), CollaborationFactory()
    today = click_id_time(new_click_id(NOW_MS)).date()
    yesterday = today - dt.timedelta(days=1)
    records = [
        *(record(first.pk, at_ms=NOW_MS, n=i) for i in range(3)),
        record(second.pk, at_ms=NOW_MS, n=3),
        record(second.pk, at_ms=NOW_MS - DAY_MS, n=4),
        record(second.pk, at_ms=NOW_MS - DAY_MS, n=5),
    ]
    for r in records:
        click_buffer_push(r)

    # when
    stored = click_buffer_flush()

    # then
    assert stored == 6
    assert daily_counts() == {
        (first.pk, today): 3,
        (second.pk, today): 1,
        (second.pk, yesterday): 2,
    }
    rows = {
        c.click_id: (c.collaboration_id, c.clicked_at, c.ip_hash, c.user_agent, c.referrer)
        for c in Click.objects.all()
    }
    assert rows == {
        r.click_id: (r.collaboration_id, r.clicked_at, r.ip_hash, r.user_agent, r.referrer)
        for r in records
    }
    assert click_buffer_backlog() == {"pending": 0, "processing": 0, "flushes": 0}


@pytest.mark.django_db
def test_a_flush_run_twice_stores_once() -> None:
    # given
    collaboration = CollaborationFactory()
    records = [record(collaboration.pk, at_ms=NOW_MS, n=i) for i in range(4)]
    push_many(records)
    assert click_buffer_flush() == 4

    # when: nothing new, then the very same records delivered again
    again = click_buffer_flush()
    push_many(records)
    redelivered = click_buffer_flush()

    # then
    assert (again, redelivered) == (0, 0)
    assert Click.objects.count() == 4
    assert daily_counts() == {(collaboration.pk, click_id_time(records[0].click_id).date()): 4}


@pytest.mark.django_db
def test_a_backlog_drains_in_chunks() -> None:
    # given
    collaboration = CollaborationFactory()
    push_many([record(collaboration.pk, n=i) for i in range(2500)])

    # when
    stored = click_buffer_flush(chunk_size=1000, max_chunks=2)

    # then: two chunks now, the rest on the next run
    assert stored == 2000
    assert click_buffer_backlog() == {"pending": 500, "processing": 0, "flushes": 0}
    assert click_buffer_flush(chunk_size=1000) == 500
    assert ClickDailyCount.objects.get().clicks == 2500


@pytest.mark.django_db
def test_clicks_of_a_deleted_collaboration_are_kept_but_not_counted() -> None:
    # given
    kept, deleted = CollaborationFactory(), CollaborationFactory()
    push_many([record(kept.pk, at_ms=NOW_MS, n=1), record(deleted.pk, at_ms=NOW_MS, n=2)])
    deleted_pk = deleted.pk
    Collaboration.objects.filter(pk=deleted_pk).delete()

    # when
    stored = click_buffer_flush()

    # then: the chunk is not poisoned by the missing collaboration
    assert stored == 2
    assert daily_counts() == {(kept.pk, click_id_time(new_click_id(NOW_MS)).date()): 1}


@pytest.mark.django_db
def test_a_malformed_record_is_dropped_without_blocking_its_chunk() -> None:
    # given
    collaboration = CollaborationFactory()
    good = record(collaboration.pk)
    click_buffer().rpush(PENDING_KEY, b"garbage", good.encode())

    # when
    stored = click_buffer_flush()

    # then
    assert stored == 1
    assert click_buffer_backlog() == {"pending": 0, "processing": 0, "flushes": 0}


def test_two_claims_never_share_a_record() -> None:
    # given
    push_many([record(1, n=i) for i in range(10)])

    # when
    first_token, first = click_buffer_claim(count=6)
    second_token, second = click_buffer_claim(count=6)
    _third_token, third = click_buffer_claim(count=6)

    # then
    assert len(first) == 6
    assert len(second) == 4
    assert third == []
    assert set(first).isdisjoint(second)
    assert sorted(processing_tokens()) == sorted([first_token.encode(), second_token.encode()])


@pytest.mark.django_db(transaction=True)
def test_parallel_flushes_store_every_click_exactly_once(niches: None, click_table: None) -> None:
    # given
    collaboration = CollaborationFactory()
    push_many([record(collaboration.pk, at_ms=NOW_MS, n=i) for i in range(3000)])
    results: list[int] = []

    def flush() -> None:
        try:
            results.append(click_buffer_flush(chunk_size=250))
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=flush) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert sum(results) == 3000
    assert Click.objects.count() == 3000
    assert ClickDailyCount.objects.get().clicks == 3000


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_flush_whose_insert_fails_gives_its_clicks_back_for_the_next_flush(
    niches: None, click_table: None
) -> None:
    # given: the database fails in the middle of the flush's transaction (after the COPY)
    collaboration = CollaborationFactory()
    records = [record(collaboration.pk, at_ms=NOW_MS, n=i) for i in range(500)]
    push_many(records)

    def fail_on_insert(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().startswith("WITH inserted"):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(fail_on_insert), pytest.raises(OperationalError):
        click_buffer_flush()

    # then: nothing stored, and every record pending again rather than held for recovery
    assert Click.objects.count() == 0
    assert click_buffer_backlog() == {"pending": 500, "processing": 0, "flushes": 0}

    # when: the database is back
    stored = click_buffer_flush()

    # then
    assert stored == 500
    assert Click.objects.count() == 500
    assert ClickDailyCount.objects.get().clicks == 500
    assert click_buffer_backlog() == {"pending": 0, "processing": 0, "flushes": 0}


@pytest.mark.django_db(transaction=True)
def test_a_flush_that_dies_before_its_commit_is_recovered_once_stale(
    niches: None, click_table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the flush's process dies inside its insert (nothing gives the records back)
    collaboration = CollaborationFactory()
    push_many([record(collaboration.pk, at_ms=NOW_MS, n=i) for i in range(500)])

    def die(records: Any) -> int:
        raise KeyboardInterrupt("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(clicks, "clicks_store", die)
        with pytest.raises(KeyboardInterrupt):
            click_buffer_flush()
    assert Click.objects.count() == 0
    assert click_buffer_backlog() == {"pending": 0, "processing": 500, "flushes": 1}

    # when: a live flush's chunk is not taken over...
    assert click_buffer_recover() == 0
    # ...but one older than the threshold is
    recovered = click_buffer_recover(older_than_seconds=0)

    # then
    assert recovered == 500
    assert Click.objects.count() == 500
    assert ClickDailyCount.objects.get().clicks == 500
    assert click_buffer_backlog() == {"pending": 0, "processing": 0, "flushes": 0}


@pytest.mark.django_db(transaction=True)
def test_a_failed_flush_leaves_a_list_a_recoverer_has_taken_alone(
    niches: None, click_table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a slow flush whose chunk a recoverer re-claims while the flush is still inside
    # its (failing) insert
    collaboration = CollaborationFactory()
    push_many([record(collaboration.pk, at_ms=NOW_MS, n=i) for i in range(200)])
    recovered: list[int] = []

    def slow_then_fail(records: Any) -> int:
        with monkeypatch.context() as inner:
            inner.setattr(clicks, "clicks_store", original)
            recovered.append(click_buffer_recover(older_than_seconds=0))
        raise OperationalError("server closed the connection unexpectedly")

    original = clicks.clicks_store
    with monkeypatch.context() as patch:
        patch.setattr(clicks, "clicks_store", slow_then_fail)
        with pytest.raises(OperationalError):
            click_buffer_flush()

    # then: the recoverer stored them, and the failed flush gave nothing back a second time
    assert recovered == [200]
    assert Click.objects.count() == 200
    assert ClickDailyCount.objects.get().clicks == 200
    assert click_buffer_backlog() == {"pending": 0, "processing": 0, "flushes": 0}


@pytest.mark.django_db(transaction=True)
def test_a_flush_that_dies_after_its_commit_is_not_counted_twice(
    niches: None, click_table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the flush commits, then dies before it deletes its processing list
    collaboration = CollaborationFactory()
    push_many([record(collaboration.pk, at_ms=NOW_MS, n=i) for i in range(300)])

    def die(token: str) -> None:
        raise ConnectionError("worker lost")

    with monkeypatch.context() as patch:
        patch.setattr(clicks, "_release", die)
        with pytest.raises(ConnectionError):
            click_buffer_flush()
    assert click_buffer_backlog() == {"pending": 0, "processing": 300, "flushes": 1}

    # when
    recovered = click_buffer_recover(older_than_seconds=0)

    # then: the re-run inserted nothing and counted nothing
    assert recovered == 0
    assert Click.objects.count() == 300
    assert ClickDailyCount.objects.get().clicks == 300
    assert click_buffer_backlog() == {"pending": 0, "processing": 0, "flushes": 0}


@pytest.fixture
def celery_worker_on_test_database() -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` process on this test's Redis database and test database."""
    name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--hostname",
            f"clicks-{os.getpid()}@%h",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not celery_app.control.ping(timeout=0.5):
            assert process.poll() is None, "the worker exited during start-up"
            assert time.monotonic() < deadline, "the Celery worker did not answer within 30 s"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _wait_for(condition: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_killed_in_the_middle_of_a_big_flush_loses_nothing(
    niches: None, click_table: None, celery_worker_on_test_database: subprocess.Popen[bytes]
) -> None:
    # given: 15,000 clicks pending, and the daily counters locked so that the worker's
    # flush stops inside its transaction, after claiming its chunk of 10,000
    collaboration = CollaborationFactory()
    push_many([record(collaboration.pk, at_ms=NOW_MS, n=i) for i in range(15_000)])
    dsn = f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}"
    # (pg_stat_activity is a snapshot per transaction: the watcher polls in autocommit)
    with psycopg.connect(dsn) as blocker, psycopg.connect(dsn, autocommit=True) as watcher:
        blocker.execute("LOCK TABLE campaigns_clickdailycount IN EXCLUSIVE MODE")
        celery_app.send_task("campaigns.clicks_flush")
        backend_pid = _wait_for(
            lambda: watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE '%WITH inserted%'"
            ).fetchone(),
            "the worker's flush to block",
        )[0]
        assert click_buffer_backlog() == {"pending": 5000, "processing": 10_000, "flushes": 1}

        # when: the worker is killed mid-flush
        celery_worker_on_test_database.send_signal(signal.SIGKILL)
        celery_worker_on_test_database.wait(timeout=30)
        blocker.rollback()
        _wait_for(
            lambda: (
                not watcher.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend_pid]
                ).fetchone()
            ),
            "the dead worker's transaction to end",
        )
    assert Click.objects.count() == 0

    # then: recovery and the next flush store every click exactly once
    recovered = click_buffer_recover(older_than_seconds=0)
    flushed = click_buffer_flush()
    assert (recovered, flushed) == (10_000, 5000)
    assert Click.objects.count() == 15_000
    assert ClickDailyCount.objects.get().clicks == 15_000
    assert click_buffer_backlog() == {"pending": 0, "processing": 0, "flushes": 0}


# --- resolving and partitions -----------------------------------------------------------------


@pytest.mark.django_db
def test_click_resolve_finds_a_stored_click_and_nothing_else() -> None:
    # given
    collaboration = CollaborationFactory()
    stored = record(collaboration.pk, at_ms=NOW_MS - 3 * DAY_MS)
    push_many([stored])
    click_buffer_flush()

    # then
    assert click_resolve(stored.click_id) == (collaboration.pk, click_id_time(stored.click_id))
    assert click_resolve(str(stored.click_id)) == (collaboration.pk, stored.clicked_at)
    assert click_resolve(new_click_id()) is None
    assert click_resolve(uuid.uuid4()) is None  # not a UUIDv7
    assert click_resolve("not-a-click-id") is None


@pytest.mark.django_db
def test_click_resolve_reads_only_the_partition_of_the_click_day() -> None:
    # given
    click_id = new_click_id(NOW_MS)
    day = click_id_time(click_id).date()

    # when
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + CLICK_RESOLVE_SQL, [click_id, click_id_time(click_id)])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then
    assert set(re.findall(r"campaigns_click_(?:p\d{8}|default)\b", plan)) == {
        f"campaigns_click_p{day:%Y%m%d}"
    }


@pytest.mark.django_db
def test_partition_upkeep_creates_the_coming_days_and_drops_the_expired() -> None:
    # given: an expired day's partition, and an expired row in the default partition
    today = timezone.now().date()
    old_day = today - dt.timedelta(days=30)
    older_day = today - dt.timedelta(days=31)
    with connection.cursor() as cursor:
        start = dt.datetime.combine(old_day, dt.time(), tzinfo=dt.UTC)
        cursor.execute(
            f"CREATE TABLE campaigns_click_p{old_day:%Y%m%d} PARTITION OF campaigns_click "
            "FOR VALUES FROM (%s) TO (%s)",
            [start, start + dt.timedelta(days=1)],
        )
        cursor.execute(
            "INSERT INTO campaigns_click (click_id, clicked_at, collaboration_id) "
            "VALUES (%s, %s, 1)",
            [uuid.uuid4(), dt.datetime.combine(older_day, dt.time(12), tzinfo=dt.UTC)],
        )

    # when
    result = click_partitions_maintain(retention_days=10)

    # then
    assert result["dropped"] == [f"campaigns_click_p{old_day:%Y%m%d}"]
    assert result["deleted_from_default"] == 1
    with connection.cursor() as cursor:
        for offset in range(8):
            day = today + dt.timedelta(days=offset)
            cursor.execute("SELECT to_regclass(%s)", [f"campaigns_click_p{day:%Y%m%d}"])
            assert cursor.fetchone()[0] is not None


def test_the_beat_schedule_names_registered_tasks(settings: Any) -> None:
    # Every app's tasks module, as a worker imports them at start.
    celery_app.loader.import_default_modules()

    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "campaigns.clicks_flush",
        "campaigns.clicks_recover",
        "campaigns.click_partitions_maintain",
    } <= names
    assert names - {"connect.beat_heartbeat"} <= set(celery_app.tasks)
