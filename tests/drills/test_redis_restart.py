"""Failure drill: Redis crashes and comes back while order events and clicks arrive.

Redis is the Celery broker, the cache the redirect reads, the click buffer and the rate-limit
store. Here it is a server of the drill's own, deployed as the README says the click buffer
must be: with an append-only file fsynced before each answer. The production web server, a
Celery worker and beat use it; a brand sends event batches and visitors follow tracking links
throughout. Part way through, Redis is SIGKILLed with clicks waiting in its buffer, stays down
for a few seconds, and starts again from its append-only file.

While it is down the API still stores each batch (its message to the worker cannot leave,
so the sweeper sends it later), and redirects read the code from PostgreSQL and store their
click there directly. Afterwards nothing accepted is lost or doubled: every event is stored
once and processed, every creator's earnings equal the independent calculation, every click
id a redirect handed out is stored exactly once and counted once (the ones that waited in
Redis at the crash included), and `check_ledger` passes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from campaigns.clicks import PENDING_KEY
from campaigns.models import Click, Collaboration
from tests.drills.traffic import Clicker, EventSender, assert_nothing_lost_or_doubled
from tests.payouts.scenario import orders, unprocessed
from tests.payouts.workers import (
    PrivateRedis,
    celery_worker,
    production_env,
    wait_for,
    web_server_process,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_redis_crash_under_traffic_loses_and_doubles_nothing(
    shop: tuple[Any, str, list[Collaboration]], click_table: None, tmp_path: Path
) -> None:
    _brand, key, collabs = shop
    events, expected = orders(collabs, 900, seed=8, prefix="RD")
    codes = [str(c.tracking_code) for c in collabs]
    server = PrivateRedis(directory=tmp_path)
    server.start()
    env = production_env(
        REDIS_URL=server.url,
        ORDER_EVENTS_SWEEP_INTERVAL_SECONDS="1",
        ORDER_EVENTS_SWEEP_AFTER_SECONDS="2",
    )
    try:
        with web_server_process(env) as (base, web), celery_worker(env, beat=True, name="rd"):
            buffer = redis.Redis.from_url(f"{server.url[:-2]}/{children_redis_db()}")
            sender = EventSender(base, key, events, batch=25, pause=0.15)
            clicker = Clicker(base, codes, pause=0.02)
            sender.start()
            clicker.start()
            wait_for(lambda: sender.sent >= len(sender.batches) // 3, "a third of the batches")
            wait_for(lambda: buffer.llen(PENDING_KEY) >= 20, "clicks waiting in the buffer")

            # when: Redis is killed with clicks waiting in it, and comes back from its file
            waiting = buffer.llen(PENDING_KEY)
            server.stop()
            down_at, sent_at = len(clicker.click_ids), sender.sent
            time.sleep(3)
            clicks_while_down = len(clicker.click_ids) - down_at
            batches_while_down = sender.sent - sent_at
            server.start()

            sender.join(timeout=180)
            assert not sender.is_alive(), "the brand could not send every batch"
            time.sleep(1)
            clicker.stop()
            clicker.join(timeout=30)

            # then: every event processed, every click flushed
            wait_for(lambda: unprocessed() == 0, "every event processed", timeout=120)
            clicks = set(clicker.click_ids)
            wait_for(lambda: Click.objects.count() >= len(clicks), "every click flushed", 60)
    finally:
        server.stop()

    # the outage happened, and was met the way the product says
    assert waiting >= 20
    assert batches_while_down > 0  # the API stored batches without its broker
    assert clicks_while_down > 0  # redirects went on, their clicks stored directly
    assert web.saw("Click buffer unavailable")
    assert dict(sender.failures) == {}
    assert dict(clicker.failures) == {}

    assert_nothing_lost_or_doubled(sender, clicker, events, collabs, expected)


def children_redis_db() -> int:
    """The Redis database the children use: config.settings_test picks it per test process."""
    return int(settings.TEST_REDIS_URL.rsplit("/", 1)[1])
