"""Failures the pipeline meets in production, with real processes: a worker SIGKILLed in the
middle of a batch, the same batch posted twice at once, Redis gone while events arrive.

After each, every creator's earnings equal an independent calculation made here (integer
arithmetic, not the pipeline's code) and every ledger invariant holds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import connection, connections

from campaigns.models import Brand, Collaboration
from payouts.ingest import order_events_ingest
from payouts.models import Commission, LedgerTransaction, OrderEvent
from payouts.processing import order_events_process
from tests.payouts.scenario import assert_earnings, orders, post_json, unprocessed
from tests.payouts.workers import PrivateRedis, celery_worker, process_env, wait_for, web_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_in_the_middle_of_a_batch_loses_and_doubles_nothing(
    shop: tuple[Brand, str, list[Collaboration]], live_server: Any
) -> None:
    _brand, key, collabs = shop
    events, expected = orders(collabs, 600, seed=1)
    dsn = f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}"
    env = process_env(ORDER_EVENTS_SWEEP_INTERVAL_SECONDS="1", ORDER_EVENTS_SWEEP_AFTER_SECONDS="1")
    with psycopg.connect(dsn) as blocker, psycopg.connect(dsn, autocommit=True) as watcher:
        # given: stored batches, and the ledger's balances locked so that the first worker
        # stops inside its transaction, after claiming its batch and locking its orders
        blocker.execute("LOCK TABLE payouts_ledgerbalance IN EXCLUSIVE MODE")
        for start in range(0, len(events), 200):
            status, answer = post_json(
                f"{live_server.url}/api/v1/order-events",
                key,
                {"events": events[start : start + 200]},
            )
            assert (status, answer["rejected"]) == (202, [])
        with celery_worker(env, name="doomed") as doomed:
            backend = wait_for(
                lambda: watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE '%%payouts_ledgerbalance%%'"
                ).fetchone(),
                "the worker to block inside its batch",
            )[0]
            # when: the worker is SIGKILLed there
            doomed.kill()
        blocker.rollback()
        wait_for(
            lambda: (
                not watcher.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]
                ).fetchone()
            ),
            "the killed worker's transaction to end",
        )
    # then: nothing of its batch was kept
    assert unprocessed() == len(events)
    assert not Commission.objects.exists() and not LedgerTransaction.objects.exists()

    # when: a worker (with beat's sweeper) comes back
    with celery_worker(env, beat=True, name="after") as worker:
        wait_for(lambda: unprocessed() == 0, f"every event processed\n{worker.log()}", timeout=90)

    # then: earnings are exact and every order was posted once
    assert_earnings(collabs, expected)
    assert (
        LedgerTransaction.objects.filter(kind="commission").count()
        == Commission.objects.filter(revision__gte=1).count()
    )


def test_the_same_batch_posted_twice_at_once_counts_once(
    shop: tuple[Brand, str, list[Collaboration]], live_server: Any
) -> None:
    _brand, key, collabs = shop
    events, expected = orders(collabs, 400, seed=2)
    batch = {"events": events[:1000]}
    answers: list[tuple[int, Any]] = []
    barrier = threading.Barrier(2)

    def send() -> None:
        barrier.wait()
        answers.append(post_json(f"{live_server.url}/api/v1/order-events", key, batch))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _ in answers] == [202, 202]
    assert sum(a["accepted"] for _, a in answers) == len(batch["events"])
    assert sum(a["duplicates"] for _, a in answers) == len(batch["events"])
    assert OrderEvent.objects.count() == len(batch["events"])

    with celery_worker(process_env(), name="twice") as worker:
        wait_for(lambda: unprocessed() == 0, f"every event processed\n{worker.log()}")

    assert_earnings(collabs, expected)


def test_events_sent_while_redis_is_down_are_stored_and_processed_once_it_is_back(
    shop: tuple[Brand, str, list[Collaboration]],
) -> None:
    _brand, key, collabs = shop
    events, expected = orders(collabs, 300, seed=3)
    first, second = events[: len(events) // 2], events[len(events) // 2 :]
    redis = PrivateRedis()
    redis.start()
    env = process_env(
        REDIS_URL=redis.url,
        ORDER_EVENTS_SWEEP_INTERVAL_SECONDS="1",
        ORDER_EVENTS_SWEEP_AFTER_SECONDS="1",
    )
    try:
        with web_server(env) as base, celery_worker(env, beat=True, name="redis") as worker:
            status, _answer = post_json(f"{base}/api/v1/order-events", key, {"events": first})
            assert status == 202
            wait_for(lambda: unprocessed() == 0, f"the first batch processed\n{worker.log()}")

            # when: Redis goes away while the brand sends the rest
            redis.stop()
            started = time.monotonic()
            status, answer = post_json(f"{base}/api/v1/order-events", key, {"events": second})
            took = time.monotonic() - started

            # then: the API stored them and said so, without hanging on the broker
            assert status == 202, answer
            assert answer["accepted"] == len(second)
            assert took < 20
            assert unprocessed() == len(second)

            # when: Redis is back, the sweeper finds the batch whose message never left
            redis.start()
            wait_for(
                lambda: unprocessed() == 0,
                f"the stored batch processed after Redis came back\n{worker.log()}",
                timeout=120,
            )
    finally:
        redis.stop()

    assert_earnings(collabs, expected)


def test_two_workers_settling_the_same_orders_at_once_agree_with_a_recompute(
    shop: tuple[Brand, str, list[Collaboration]],
) -> None:
    # given: the order.paid events in one batch and their refunds in another, so that two
    # workers that process the batches at the same time meet on every order
    brand, _key, collabs = shop
    events, expected = orders(collabs, 200, seed=4)
    paid = [e for e in events if e["type"] == "order.paid"]
    others = [e for e in events if e["type"] != "order.paid"]
    batches = [
        order_events_ingest(brand=brand, events=paid).batch_id,
        order_events_ingest(brand=brand, events=others).batch_id,
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(batch_id: Any) -> None:
        try:
            barrier.wait()
            order_events_process(batch_id=batch_id)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=work, args=(batch_id,)) for batch_id in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: both committed (row locks on the orders serialised them), and every order ends
    # as if it had been processed alone
    assert errors == []
    assert unprocessed() == 0
    assert_earnings(collabs, expected)
