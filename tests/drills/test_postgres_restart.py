"""Failure drill: PostgreSQL crashes and comes back while the marketplace runs.

The production web server (gunicorn), a Celery worker and beat run against a PostgreSQL of
the drill's own. A brand sends order event batches and visitors follow tracking links
throughout. Part way through, the database is stopped the way a crash stops it (`pg_ctl -m
immediate`: every connection cut, open transactions lost, recovery at the next start), stays
down for a few seconds, and starts again.

While it is down the API answers 503 with Retry-After and the brand sends the same batch
again; redirects keep working from the Redis cache and their clicks wait in Redis; the
worker's batches fail and are retried or swept up later; the click flush gives its records
back. Afterwards nothing accepted is lost or doubled: every event is stored once and
processed, every creator's earnings equal the independent calculation, every click id a
redirect handed out is stored exactly once and counted once, and `check_ledger` passes.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection

from campaigns.models import Click, Collaboration
from campaigns.tracking import tracking_target_get
from tests.drills.services import private_postgres, reconnect, until_up
from tests.drills.traffic import Clicker, EventSender, assert_nothing_lost_or_doubled
from tests.payouts.scenario import orders, unprocessed
from tests.payouts.workers import celery_worker, production_env, wait_for, web_server_process

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_postgresql_crash_under_traffic_loses_and_doubles_nothing(
    shop: tuple[Any, str, list[Collaboration]], click_table: None
) -> None:
    _brand, key, collabs = shop
    events, expected = orders(collabs, 900, seed=7, prefix="PG")
    codes = [str(c.tracking_code) for c in collabs]
    with private_postgres() as database:
        env = production_env(
            DATABASE_URL=database.url(connection.settings_dict["NAME"]),
            ORDER_EVENTS_SWEEP_INTERVAL_SECONDS="1",
            ORDER_EVENTS_SWEEP_AFTER_SECONDS="2",
        )
        for code in codes:
            assert tracking_target_get(code) is not None  # the redirect's cache, warm
        with (
            web_server_process(env) as (base, web),
            celery_worker(env, beat=True, name="pg") as worker,
        ):
            sender = EventSender(base, key, events, batch=25, pause=0.15)
            clicker = Clicker(base, codes, pause=0.02)
            sender.start()
            clicker.start()
            wait_for(lambda: sender.sent >= len(sender.batches) // 3, "a third of the batches")

            # when: the database crashes, and comes back a few seconds later
            database.crash()
            down_at = len(clicker.click_ids)
            wait_for(lambda: sender.failures, "the brand to meet the outage")
            time.sleep(3)
            clicks_while_down = len(clicker.click_ids) - down_at
            database.start()
            until_up(database)

            sender.join(timeout=180)
            assert not sender.is_alive(), "the brand could not send every batch"
            time.sleep(1)
            clicker.stop()
            clicker.join(timeout=30)
            reconnect()

            # then: every batch was answered in the end, and every event processed
            wait_for(lambda: unprocessed() == 0, f"every event processed\n{worker.log()}", 120)
            clicks = set(clicker.click_ids)
            wait_for(
                lambda: Click.objects.count() >= len(clicks),
                f"every click flushed\n{worker.log()}",
                timeout=60,
            )
            assert worker.process.poll() is None, worker.log()

        # the outage happened, and was met the way the product says
        assert set(sender.failures) == {"503"}, (sender.failures, "".join(web.output)[-8000:])
        assert worker.saw("OperationalError")  # the worker met it too, and lived
        assert clicks_while_down > 0  # redirects went on from the cache
        assert dict(clicker.failures) == {}

        assert_nothing_lost_or_doubled(sender, clicker, events, collabs, expected)
