"""Benchmark the earnings pipeline end to end: order events posted through the real HTTP API,
processed by the real Celery workers, checked by the recompute and the ledger check, and
compared with a floor measured in the same run (a plain COPY of the same rows and one
GROUP BY computing the per-creator sums).

    make bench-pipeline                       # 1,000,000 events; EVENTS=20000 to change
    .venv/bin/python benchmarks/bench_pipeline.py --events 20000

Every run starts from an empty database: it drops and recreates `connect_bench_pipeline`
(or BENCH_PIPELINE_DATABASE_URL; `common.py`'s refusals apply), migrates it and seeds it
by COPY: 20 verified brands, 2,000 active campaigns in six currencies (percent and fixed
commissions, some with a second terms version, a few with a budget) and 100,000 creators
in about 105,000 active collaborations. Redis is BENCH_PIPELINE_REDIS_URL (default
redis://127.0.0.1:6379/15); the script deletes only the broker's and the cache's keys there.

Then it starts the Procfile's `web` (gunicorn) and `worker` (Celery) lines against them,
without beat (the script sweeps, as beat would, only if processing stalls), posts every
event in batches of 1000 from concurrent keep-alive clients, waits until no event is left
unprocessed, and runs `manage.py recompute_earnings --verify`, `manage.py check_ledger` and
its own checks against the totals it expects from the events it generated.

The last line is machine-readable:

    RESULT events=<n> seconds=<ingest+processing> events_per_s=<n> floor_seconds=<n>
        ratio=<seconds/floor> verified=<yes|no> peak_rss_mb=<n>
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import http.client
import json
import math
import os
import queue
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

import psycopg
import redis
from common import (
    BASE_DIR,
    bench_database_url,
    copy_rows,
    database_name,
    drop_secondary_indexes,
    load_average,
    migrate,
    percentile,
    print_table,
    result_line,
    setup_django,
    vacuum_analyze,
)
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/connect_bench_pipeline"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
API_PATH = "/api/v1/order-events"
BATCH_SIZE = 1000

BRANDS = 20
CAMPAIGNS = 2000
CREATORS = 100_000
SECOND_COLLABORATION_SHARE = 0.05  # creators in a second campaign

# Shares of the events posted (duplicates included), and of the orders.
DUPLICATE_SHARE = 0.03
REFUND_SHARE = 0.10
CANCEL_SHARE = 0.02
OUT_OF_ORDER_SHARE = 0.05
SECOND_REFUND_SHARE = 0.15  # of the refund events: a second partial refund of an order
FULL_REFUND_SHARE = 0.4  # of the orders refunded once
UNATTRIBUTED_SHARE = 0.05  # of the orders
CLICK_SHARE = 0.03  # of the attributed orders: attributed by click id
ORDER_DAYS = 14  # orders happened over the last two weeks

# Campaign currencies in rotation, and what a typical amount is worth in each (minor units
# per euro cent, roughly).
CURRENCY_ROTATION = ["EUR", "EUR", "PLN", "EUR", "USD", "PLN", "GBP", "EUR", "SEK", "CZK"]
CURRENCY_SCALE = {"EUR": 1, "USD": 1, "GBP": 1, "PLN": 4, "SEK": 11, "CZK": 25}
PERCENTS = ["5.00", "7.50", "8.00", "10.00", "12.50", "15.00", "8.25", "20.00"]
FIXED_EUR_MINOR = [300, 500, 1000, 1500, 2500]
COUNTRIES = ["PL", "PL", "ES", "ES", "DE", "FR", "IT", "GB", "PT", "NL", "CZ", "SE"]

SEEDED_TABLES = (
    "connect_user",
    "connect_creatorprofile",
    "campaigns_brand",
    "campaigns_campaign",
    "campaigns_campaignterms",
    "campaigns_campaignactiveperiod",
    "campaigns_collaboration",
)


# --- the world: brands, campaigns, creators and collaborations --------------------------------


@dataclass(frozen=True)
class Terms:
    pk: int
    effective_from: dt.datetime
    percent: Decimal | None
    fixed_minor: int | None
    hold_days: int = 30
    window_days: int = 30


@dataclass
class CampaignSpec:
    pk: int
    brand_id: int
    currency: str
    budget_minor: int | None
    terms: list[Terms]

    def terms_at(self, when: dt.datetime) -> Terms | None:
        in_force = [t for t in self.terms if t.effective_from <= when]
        return max(in_force, key=lambda t: (t.effective_from, t.pk)) if in_force else None


@dataclass(frozen=True)
class CollaborationSpec:
    pk: int
    campaign_id: int
    brand_id: int
    creator_id: int
    tracking_code: str
    discount_code: str
    activated_at: dt.datetime


@dataclass
class World:
    now: dt.datetime
    brand_ids: list[int]
    campaigns: dict[int, CampaignSpec]
    collaborations: list[CollaborationSpec]
    api_keys: dict[int, str] = field(default_factory=dict)  # brand id → full key
    clicks: dict[int, str] = field(default_factory=dict)  # order number → click id


def build_world(seed: int, now: dt.datetime, creators: int) -> World:
    """The seeded rows, generated from a fixed seed (ids are explicit, so the events can
    name them before the rows exist)."""
    rng = random.Random(seed)
    campaigns: dict[int, CampaignSpec] = {}
    terms_pk = 0
    for pk in range(1, CAMPAIGNS + 1):
        currency = CURRENCY_ROTATION[(pk * 7) % len(CURRENCY_ROTATION)]
        fixed = rng.random() < 0.3

        def rule(fixed: bool, currency: str) -> tuple[Decimal | None, int | None]:
            if fixed:
                return None, rng.choice(FIXED_EUR_MINOR) * CURRENCY_SCALE[currency]
            return Decimal(rng.choice(PERCENTS)), None

        versions = []
        terms_pk += 1
        versions.append(Terms(terms_pk, now - dt.timedelta(days=100), *rule(fixed, currency)))
        if rng.random() < 0.1:  # the terms changed a week ago
            terms_pk += 1
            versions.append(Terms(terms_pk, now - dt.timedelta(days=7), *rule(fixed, currency)))
        # A few campaigns have a budget, large enough never to run out during the run.
        budget = 10**12 if pk % 50 == 0 else None
        campaigns[pk] = CampaignSpec(pk, (pk - 1) % BRANDS + 1, currency, budget, versions)

    collaborations: list[CollaborationSpec] = []

    def add(creator: int, campaign_id: int, suffix: str) -> None:
        pk = len(collaborations) + 1
        activated = now - dt.timedelta(days=rng.uniform(30, 80))
        collaborations.append(
            CollaborationSpec(
                pk=pk,
                campaign_id=campaign_id,
                brand_id=campaigns[campaign_id].brand_id,
                creator_id=creator,
                tracking_code=f"bp{pk:08d}",
                discount_code=f"CREATOR{creator:06d}{suffix}",
                activated_at=activated.replace(microsecond=0),
            )
        )

    for creator in range(1, creators + 1):
        add(creator, rng.randrange(1, CAMPAIGNS + 1), "")
    for creator in rng.sample(range(1, creators + 1), round(creators * SECOND_COLLABORATION_SHARE)):
        first = collaborations[creator - 1].campaign_id
        second = rng.randrange(1, CAMPAIGNS + 1)
        while second == first:
            second = rng.randrange(1, CAMPAIGNS + 1)
        add(creator, second, "X")
    return World(
        now=now,
        brand_ids=list(range(1, BRANDS + 1)),
        campaigns=campaigns,
        collaborations=collaborations,
    )


# --- seeding -----------------------------------------------------------------------------------


def reset_database(url: str) -> None:
    """Drop and recreate the bench database, so that every run starts from the same state."""
    name = database_name(url)
    maintenance = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def seed(url: str, world: World, creators: int) -> None:
    from campaigns.models import (
        Brand,
        Campaign,
        CampaignActivePeriod,
        CampaignTerms,
        Collaboration,
    )
    from connect.models import CreatorProfile, User

    now = world.now
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        niche_ids = [row[0] for row in cur.execute("SELECT id FROM connect_niche ORDER BY id")]
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        index_definitions = drop_secondary_indexes(cur, SEEDED_TABLES)
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        copy_rows(
            cur,
            User,
            "id, password, is_superuser, first_name, last_name, is_staff, is_active, "
            "date_joined, email",
            (
                (n, "!", False, "", "", False, True, now, f"creator{n}@bench.connect.localhost")
                for n in range(1, creators + 1)
            ),
        )
        copy_rows(
            cur,
            CreatorProfile,
            "id, user_id, handle, display_name, country, max_followers, created_at, updated_at",
            (
                (
                    n,
                    n,
                    f"creator_{n:06d}",
                    f"Creator {n}",
                    COUNTRIES[n % len(COUNTRIES)],
                    (n * 7919) % 1_000_000 + 100,
                    now,
                    now,
                )
                for n in range(1, creators + 1)
            ),
        )
        copy_rows(
            cur,
            Brand,
            "id, name, slug, website, country, verified_at, created_at",
            (
                (
                    b,
                    f"Bench Brand {b}",
                    f"bench-brand-{b}",
                    f"https://brand{b}.example.com",
                    COUNTRIES[b % len(COUNTRIES)],
                    now - dt.timedelta(days=200),
                    now - dt.timedelta(days=200),
                )
                for b in world.brand_ids
            ),
        )
        copy_rows(
            cur,
            Campaign,
            "id, brand_id, title, landing_url, niche_id, currency, budget_minor, status, "
            "published_at, created_at, updated_at",
            (
                (
                    c.pk,
                    c.brand_id,
                    f"Campaign {c.pk}",
                    f"https://brand{c.brand_id}.example.com/c/{c.pk}",
                    niche_ids[c.pk % len(niche_ids)],
                    c.currency,
                    c.budget_minor,
                    "active",
                    now - dt.timedelta(days=90),
                    now - dt.timedelta(days=120),
                    now - dt.timedelta(days=90),
                )
                for c in world.campaigns.values()
            ),
        )
        copy_rows(
            cur,
            CampaignTerms,
            "id, campaign_id, effective_from, commission_type, commission_percent, "
            "commission_fixed_minor, hold_days, attribution_window_days, created_at",
            (
                (
                    t.pk,
                    c.pk,
                    t.effective_from,
                    "fixed" if t.fixed_minor is not None else "percent",
                    t.percent,
                    t.fixed_minor,
                    t.hold_days,
                    t.window_days,
                    t.effective_from,
                )
                for c in world.campaigns.values()
                for t in c.terms
            ),
        )
        copy_rows(
            cur,
            CampaignActivePeriod,
            "campaign_id, started_at",
            ((c.pk, now - dt.timedelta(days=90)) for c in world.campaigns.values()),
        )
        copy_rows(
            cur,
            Collaboration,
            "id, campaign_id, brand_id, creator_id, status, tracking_code, discount_code, "
            "activated_at, created_at, updated_at",
            (
                (
                    c.pk,
                    c.campaign_id,
                    c.brand_id,
                    c.creator_id,
                    "active",
                    c.tracking_code,
                    c.discount_code,
                    c.activated_at,
                    c.activated_at,
                    c.activated_at,
                )
                for c in world.collaborations
            ),
        )
        for definition in index_definitions:
            cur.execute(definition)
        for table in SEEDED_TABLES:
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({table}, 'id'), "
                    "(SELECT max(id) FROM {ident}))"
                ).format(table=sql.Literal(table), ident=sql.Identifier(table))
            )
    vacuum_analyze(url, SEEDED_TABLES)


def create_api_keys(world: World) -> None:
    from campaigns.api_keys import brand_api_key_create
    from campaigns.models import Brand

    for brand in Brand.objects.filter(pk__in=world.brand_ids).order_by("pk"):
        _key, secret = brand_api_key_create(brand=brand, actor=None, name="Benchmark")
        world.api_keys[brand.pk] = secret


def store_clicks(world: World, plan: Plan) -> int:
    """Store the clicks that the click-attributed orders name, as the flush would."""
    from campaigns.clicks import ClickRecord, click_partitions_ensure, clicks_store, new_click_id

    click_partitions_ensure(days_back=ORDER_DAYS + 10, days_ahead=1)
    records = []
    for number, (collaboration_id, clicked_ts) in plan.clicks.items():
        click_id = new_click_id(now_ms=int(clicked_ts * 1000))
        world.clicks[number] = str(click_id)
        records.append(ClickRecord(click_id, collaboration_id, "", "Mozilla/5.0 (bench)", ""))
    for start in range(0, len(records), 5000):
        clicks_store(records[start : start + 5000])
    return len(records)


# --- the events --------------------------------------------------------------------------------


@dataclass
class Event:
    brand_id: int
    event_id: str
    type: str
    order_id: str
    occurred_ts: float
    amount_minor: int | None
    currency: str
    code: str | None
    order_number: int  # for the click id, filled in once the clicks are stored
    click: bool = False
    position: float = 0.0


@dataclass
class Expected:
    """What the pipeline must end with, computed here from the generated orders."""

    commission_by_currency: Counter[str] = field(default_factory=Counter)
    commissions: int = 0  # commissions with a non-zero amount
    unattributed_orders: int = 0
    orders: int = 0


@dataclass
class Plan:
    unique: list[Event]
    sends: list[list[Event]]  # the batches in posting order (duplicates included)
    batch_brands: list[int]
    expected: Expected
    clicks: dict[int, tuple[int, float]]  # order number → (collaboration id, clicked at ts)
    counts: dict[str, int]


def minor_text(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def commission_for(net_minor: int, terms: Terms) -> int:
    if terms.fixed_minor is not None:
        return terms.fixed_minor if net_minor > 0 else 0
    assert terms.percent is not None
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(net_minor) * terms.percent / 100
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def plan_events(world: World, total: int, seed: int) -> Plan:
    """Generate `total` events (duplicates included), deterministic for a seed; split them
    into per-brand batches in posting order; compute the expected commissions."""
    rng = random.Random(seed * 1_000_003 + total)
    now_ts = world.now.timestamp()
    duplicates = round(total * DUPLICATE_SHARE)
    unique = total - duplicates
    refunds = round(total * REFUND_SHARE)
    cancels = round(total * CANCEL_SHARE)
    second_refunds = round(refunds * SECOND_REFUND_SHARE)
    refunded_orders = refunds - second_refunds
    paid = unique - refunds - cancels
    if paid < refunded_orders + cancels or paid < 1:
        raise SystemExit(f"--events {total} is too few to build the mix of events.")

    # Orders go to collaborations Zipf-like: a few creators sell a lot, most a little.
    collaborations = world.collaborations
    ranks = list(range(len(collaborations)))
    rng.shuffle(ranks)
    cumulative: list[float] = []
    running = 0.0
    for rank in range(len(collaborations)):
        running += 1.0 / (rank + 10) ** 0.9
        cumulative.append(running)

    unattributed = set(rng.sample(range(paid), round(paid * UNATTRIBUTED_SHARE)))
    attributed = [n for n in range(paid) if n not in unattributed]
    by_click = set(rng.sample(attributed, round(len(attributed) * CLICK_SHARE)))
    touched = rng.sample(range(paid), refunded_orders + cancels)
    refunded, cancelled = touched[:refunded_orders], set(touched[refunded_orders:])
    twice = set(rng.sample(refunded, second_refunds))
    refunded_set = set(refunded)

    expected = Expected(orders=paid)
    events: list[Event] = []
    followups: list[tuple[Event, Event]] = []  # (follow-up, its order.paid)
    clicks: dict[int, tuple[int, float]] = {}
    for number in range(paid):
        pick = bisect.bisect_left(cumulative, rng.random() * running)
        collaboration = collaborations[ranks[min(pick, len(ranks) - 1)]]
        campaign = world.campaigns[collaboration.campaign_id]
        currency = campaign.currency
        brand_id = collaboration.brand_id
        occurred = now_ts - rng.uniform(300, ORDER_DAYS * 86400)
        amount = max(100, int(math.exp(rng.gauss(math.log(5000), 0.8)))) * CURRENCY_SCALE[currency]
        order_id = f"ORD-{number:08d}"
        code: str | None
        click = False
        if number in unattributed:
            # An unknown code, or (one in four) neither code nor click.
            code = None if number % 4 == 0 else f"NOSUCH{number}"
        elif number in by_click:
            click = True
            code = collaboration.discount_code if number % 2 == 0 else None
            clicks[number] = (collaboration.pk, occurred - rng.uniform(60, 7 * 86400))
        else:
            code = collaboration.discount_code
            if number % 5 == 0:
                code = code.lower()  # codes match whatever their case
        paid_event = Event(
            brand_id,
            f"{order_id}-paid",
            "order.paid",
            order_id,
            occurred,
            amount,
            currency,
            code,
            number,
            click,
        )
        events.append(paid_event)

        refunded_minor = 0
        last = occurred
        is_cancelled = number in cancelled
        if number in refunded_set:
            steps = 2 if number in twice else 1
            for step in range(steps):
                if steps == 1 and rng.random() < FULL_REFUND_SHARE:
                    part = amount
                elif step == 0:
                    part = max(1, int(amount * rng.uniform(0.1, 0.6)))
                else:
                    part = max(1, int((amount - refunded_minor) * rng.uniform(0.1, 0.9)))
                last = last + (now_ts - 60 - last) * rng.random()
                refunded_minor += part
                event = Event(
                    brand_id,
                    f"{order_id}-refund-{step + 1}",
                    "order.refunded",
                    order_id,
                    last,
                    part,
                    currency,
                    code,
                    number,
                )
                events.append(event)
                followups.append((event, paid_event))
        if is_cancelled:
            last = last + (now_ts - 60 - last) * rng.random()
            event = Event(
                brand_id,
                f"{order_id}-cancel",
                "order.cancelled",
                order_id,
                last,
                None,
                currency,
                code,
                number,
            )
            events.append(event)
            followups.append((event, paid_event))

        # What the order earns, by the rules of docs/earnings-rules.md.
        if number in unattributed:
            expected.unattributed_orders += 1
            continue
        when = dt.datetime.fromtimestamp(occurred, tz=dt.UTC)
        terms = campaign.terms_at(when)
        assert terms is not None and collaboration.activated_at <= when
        net = 0 if is_cancelled else max(0, amount - refunded_minor)
        commission = commission_for(net, terms)
        expected.commission_by_currency[currency] += commission
        expected.commissions += commission > 0

    # Posting order, per brand: by time, with some follow-ups sent before their order.paid
    # (at least a batch earlier) and some events sent again later.
    out_of_order = {
        id(event)
        for event, _paid in rng.sample(
            followups, min(len(followups), round(total * OUT_OF_ORDER_SHARE))
        )
    }
    per_brand: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        if id(event) not in out_of_order:
            per_brand[event.brand_id].append(event)
    for stream in per_brand.values():
        stream.sort(key=lambda e: e.occurred_ts)
        for position, event in enumerate(stream):
            event.position = float(position)
    for event, paid_event in followups:
        if id(event) in out_of_order:
            event.position = paid_event.position - rng.uniform(BATCH_SIZE, 4 * BATCH_SIZE)
            per_brand[event.brand_id].append(event)
    sends: dict[int, list[tuple[float, Event]]] = {
        brand: [(e.position, e) for e in stream] for brand, stream in per_brand.items()
    }
    for event in rng.sample(events, duplicates):
        sends[event.brand_id].append((event.position + rng.uniform(1, 20 * BATCH_SIZE), event))

    batches: list[tuple[float, int, list[Event]]] = []
    for brand, stream in sends.items():
        stream.sort(key=lambda pair: pair[0])
        chunks = [stream[i : i + BATCH_SIZE] for i in range(0, len(stream), BATCH_SIZE)]
        for n, chunk in enumerate(chunks):
            # Brands post side by side: interleave their batches by progress.
            batches.append((n / len(chunks), brand, [e for _p, e in chunk]))
    batches.sort(key=lambda b: (b[0], b[1]))
    return Plan(
        unique=events,
        sends=[b[2] for b in batches],
        batch_brands=[b[1] for b in batches],
        expected=expected,
        clicks=clicks,
        counts={
            "posted": total,
            "unique": len(events),
            "paid": paid,
            "refunds": refunds,
            "second_refunds": second_refunds,
            "cancels": cancels,
            "duplicates": duplicates,
            "out_of_order": len(out_of_order),
            "unattributed_orders": len(unattributed),
            "click_orders": len(by_click),
            "batches": len(batches),
        },
    )


def rfc3339(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_json(event: Event, clicks: dict[int, str]) -> dict[str, str]:
    body = {
        "id": event.event_id,
        "type": event.type,
        "order_id": event.order_id,
        "occurred_at": rfc3339(event.occurred_ts),
        "currency": event.currency,
    }
    if event.amount_minor is not None:
        body["amount"] = minor_text(event.amount_minor)
    if event.code is not None:
        body["code"] = event.code
    if event.click:
        body["click_id"] = clicks[event.order_number]
    return body


def encode_batches(plan: Plan, world: World) -> list[tuple[int, bytes]]:
    return [
        (
            brand,
            json.dumps(
                {"events": [event_json(e, world.clicks) for e in batch]}, separators=(",", ":")
            ).encode(),
        )
        for brand, batch in zip(plan.batch_brands, plan.sends, strict=True)
    ]


# --- the floor ---------------------------------------------------------------------------------


def floor_copy_text(plan: Plan) -> bytes:
    """The unique events as COPY text: (brand, event id, type, order id, occurred at,
    amount, currency, code)."""
    lines = []
    for e in plan.unique:
        amount = "\\N" if e.amount_minor is None else str(e.amount_minor)
        code = "\\N" if e.code is None else e.code
        lines.append(
            f"{e.brand_id}\t{e.event_id}\t{e.type}\t{e.order_id}\t{rfc3339(e.occurred_ts)}\t"
            f"{amount}\t{e.currency}\t{code}\n"
        )
    return "".join(lines).encode()


FLOOR_TABLE = """
CREATE TABLE bench_floor_events (
    brand_id bigint, event_id varchar(100), type varchar(20), order_id varchar(100),
    occurred_at timestamptz, amount_minor bigint, currency varchar(3), code varchar(100)
)
"""
FLOOR_GROUP_BY = """
CREATE TABLE bench_floor_sums AS
SELECT c.creator_id, e.currency,
       sum(CASE e.type WHEN 'order.paid' THEN e.amount_minor
                       WHEN 'order.refunded' THEN -e.amount_minor ELSE 0 END) AS amount_minor,
       count(*) AS events
FROM bench_floor_events e
JOIN campaigns_collaboration c ON c.brand_id = e.brand_id AND lower(c.discount_code) = lower(e.code)
GROUP BY c.creator_id, e.currency
"""


def measure_floor(url: str, data: bytes) -> tuple[float, float, int]:
    """COPY the rows into a bare table (logged, no index) and compute the per-creator sums
    in one GROUP BY, each committed; (copy seconds, group by seconds, creators summed)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor_events, bench_floor_sums")
        conn.execute(FLOOR_TABLE)
        start = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy("COPY bench_floor_events FROM STDIN") as copy,
        ):
            view = memoryview(data)
            for offset in range(0, len(data), 1 << 20):
                copy.write(view[offset : offset + (1 << 20)])
        copied = time.perf_counter()
        with conn.transaction():
            conn.execute(FLOOR_GROUP_BY)
        grouped = time.perf_counter()
        rows = conn.execute("SELECT count(*) FROM bench_floor_sums").fetchone()
        conn.execute("DROP TABLE bench_floor_events, bench_floor_sums")
    return copied - start, grouped - copied, int(rows[0]) if rows else 0


# --- processes ---------------------------------------------------------------------------------


def bench_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings on the bench database, with the API's rate limit out of the way."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "ORDER_EVENTS_RATE_LIMIT": "1000000/m",
    }


def procfile_command(name: str) -> list[str]:
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return shlex.split(line.removeprefix(f"{name}:"))
    sys.exit(f"The Procfile has no {name} process.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def web_command(port: int, workers: int | None) -> list[str]:
    args = [
        re.sub(r"^127\.0\.0\.1:\d+$", f"127.0.0.1:{port}", arg) for arg in procfile_command("web")
    ]
    if workers is not None:
        i = args.index("--workers")
        args[i + 1] = str(workers)
    return args


def worker_command(node: int, concurrency: int | None) -> list[str]:
    args = [*procfile_command("worker"), "-n", f"bench{node}@%h"]
    if concurrency is not None:
        args = [a for a in args if not a.startswith("--concurrency")]
        args.append(f"--concurrency={concurrency}")
    return args


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path


def start(name: str, command: list[str], env: dict[str, str], log_path: Path) -> Service:
    log = log_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL if name == "web" else log,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    return Service(name, process, log_path)


def stop(service: Service) -> None:
    if service.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(service.process.pid, signal.SIGTERM)
    try:
        service.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait()


def wait_for_web(service: Service, port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        if service.process.poll() is not None:
            sys.exit(f"gunicorn exited at start-up; see {service.log_path}")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/robots.txt")
            if conn.getresponse().status == 200:
                conn.close()
                return
        if time.monotonic() > deadline:
            sys.exit(f"gunicorn did not answer within 60 s; see {service.log_path}")
        time.sleep(0.2)


def wait_for_worker(service: Service) -> None:
    deadline = time.monotonic() + 60
    while b" ready." not in service.log_path.read_bytes():
        if service.process.poll() is not None:
            sys.exit(f"the Celery worker exited at start-up; see {service.log_path}")
        if time.monotonic() > deadline:
            sys.exit(f"the Celery worker was not ready within 60 s; see {service.log_path}")
        time.sleep(0.2)


def reset_redis(redis_url: str) -> None:
    """Delete what an earlier run left in the bench Redis database: the broker's queue and
    bindings, and the cache (rate-limit windows, sessions). Only those keys."""
    client = redis.Redis.from_url(redis_url)
    keys: list[Any] = []
    for pattern in ("celery", "unacked*", "_kombu.*", "connect:*"):
        keys += client.keys(pattern)
    if keys:
        client.delete(*keys)


# --- sampling: memory, CPU, and what PostgreSQL is doing -----------------------------------


def process_table() -> dict[int, int]:
    """pid → parent pid, for every process."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    return parents


def tree(root: int, parents: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for pid, parent in parents.items():
        children[parent].append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its children it has waited for."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return 0.0


class Sampler(threading.Thread):
    """Every `interval` seconds: the resident memory of the server's and the workers' process
    trees, the CPU time of those processes and of the bench database's PostgreSQL backends,
    and what each active backend of the bench database is doing (pg_stat_activity)."""

    def __init__(self, url: str, roots: dict[str, int], interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.roots = roots
        self.interval = interval
        self.stopping = threading.Event()
        self.peak_total_kb = 0
        self.peak_process_kb = 0
        self.peak_by_group_kb: dict[str, int] = defaultdict(int)
        self.cpu_first: dict[tuple[str, int], float] = {}
        self.cpu_last: dict[tuple[str, int], float] = {}
        self.ticks = 0
        self.active = Counter[str]()
        self.waits = Counter[str]()
        self.active_samples = 0
        self.phase = "ingest"
        self.phase_ticks: Counter[str] = Counter()
        self.phase_active: Counter[str] = Counter()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            own = conn.info.backend_pid
            database = database_name(self.url)
            while not self.stopping.wait(self.interval):
                self.sample(conn, own, database)

    def sample(self, conn: psycopg.Connection[Any], own: int, database: str) -> None:
        parents = process_table()
        total = 0
        for group, root in self.roots.items():
            group_kb = 0
            for pid in tree(root, parents):
                kb = rss_kb(pid)
                group_kb += kb
                self.peak_process_kb = max(self.peak_process_kb, kb)
                self.track_cpu(group, pid)
            self.peak_by_group_kb[group] = max(self.peak_by_group_kb[group], group_kb)
            total += group_kb
        self.peak_total_kb = max(self.peak_total_kb, total)
        rows = conn.execute(
            "SELECT pid, state, wait_event_type, wait_event, query FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> %s AND backend_type = 'client backend'",
            [database, own],
        ).fetchall()
        self.ticks += 1
        self.phase_ticks[self.phase] += 1
        for pid, state, wait_type, wait_event, query in rows:
            self.track_cpu("postgres", pid)
            if state != "active":
                continue
            self.active_samples += 1
            self.phase_active[self.phase] += 1
            self.active[statement_label(query or "")] += 1
            self.waits[f"{wait_type}:{wait_event}" if wait_type else "CPU (no wait)"] += 1

    def track_cpu(self, group: str, pid: int) -> None:
        seconds = cpu_seconds(pid)
        self.cpu_first.setdefault((group, pid), seconds)
        self.cpu_last[(group, pid)] = seconds

    def cpu_by_group(self) -> dict[str, float]:
        used: dict[str, float] = defaultdict(float)
        for (group, pid), last in self.cpu_last.items():
            used[group] += last - self.cpu_first[(group, pid)]
        return used

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def statement_label(query: str) -> str:
    """A short name for a statement: its first words and the table it works on."""
    text = " ".join(query.split())
    verb = text.split(" ", 1)[0].upper() if text else "?"
    table = re.search(
        r"\b(?:FROM|INTO|UPDATE|JOIN)\s+(payouts_\w+|campaigns_\w+|connect_\w+)", text, re.I
    )
    if verb == "SELECT" and table is None:
        table = re.search(r"\b(payouts_\w+|campaigns_\w+)", text)
    target = table.group(1) if table else ""
    if "FOR UPDATE" in text.upper():
        verb += " … FOR UPDATE"
    elif "ON CONFLICT" in text.upper():
        verb += " … ON CONFLICT"
    return f"{verb} {target}".strip() if text else "(empty)"


PIPELINE_TABLES = (
    "payouts_orderevent",
    "payouts_duplicateorderevent",
    "payouts_order",
    "payouts_commission",
    "payouts_ledgeraccount",
    "payouts_ledgerbalance",
    "payouts_ledgertransaction",
    "payouts_ledgerentry",
)


class Analyzer(threading.Thread):
    """ANALYZE the pipeline's tables every `interval` seconds, as autovacuum's autoanalyze
    would when the server runs without autovacuum: the tables start empty, and plans made
    from the statistics of an empty table go wrong once it holds a million rows."""

    def __init__(self, url: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.url, self.interval = url, interval
        self.stopping = threading.Event()
        self.runs: list[float] = []

    def run(self) -> None:
        statement = sql.SQL("ANALYZE {}").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in PIPELINE_TABLES)
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.wait(self.interval):
                start = time.perf_counter()
                conn.execute(statement)
                self.runs.append(time.perf_counter() - start)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def autovacuum_on(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    return bool(row and row[0] == "on")


# --- profiling (optional: py-spy) ----------------------------------------------------------


def start_profilers(
    roots: dict[str, int], folder: Path
) -> list[tuple[str, subprocess.Popen[bytes], Path]]:
    """py-spy on each process tree, idle threads included (so that time spent waiting for
    PostgreSQL shows), without pausing the processes."""
    beside = Path(sys.executable).parent / "py-spy"
    executable = str(beside) if beside.exists() else shutil.which("py-spy")
    if executable is None:
        sys.exit("--profile needs py-spy: .venv/bin/pip install py-spy")
    profilers = []
    for name, pid in roots.items():
        output = folder / f"{name}.profile.txt"
        command = [executable, "record", "--pid", str(pid), "--subprocesses", "--idle"]
        command += ["--nonblocking", "--format", "raw", "--nolineno", "--rate", "50"]
        command += ["--output", str(output)]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        profilers.append((name, process, output))
    return profilers


def stop_profilers(profilers: list[tuple[str, subprocess.Popen[bytes], Path]]) -> None:
    for _name, process, _output in profilers:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
    for _name, process, _output in profilers:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Where a request or a task spends its time: everything under the WSGI handler (a request)
# or under the task function (a batch processed), as py-spy labels frames.
PROFILE_ROOTS = {
    "web": "WSGIHandler.__call__ (django/core/handlers/wsgi.py)",
    "worker": "order_events_process_batch (payouts/tasks.py)",
}
_PROJECT = re.compile(r"\((payouts|campaigns|connect|config)/[^)]*\)")
_DRIVER_WAIT = "Connection.wait (psycopg/connection.py)"


def summarize_profile(path: Path, root: str, top: int = 15) -> None:
    """Print where the samples under `root` went: waiting for PostgreSQL, in the driver, or
    in Python; the project functions by inclusive share; and the leaf functions (self)."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    total = 0
    with contextlib.suppress(OSError):
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            frames = stack.split(";")
            if root not in frames:
                continue
            count = int(count_text)
            total += count
            frames = frames[frames.index(root) :]
            for label in dict.fromkeys(f for f in frames if _PROJECT.search(f)):
                inclusive[label] += count
            leaf = frames[-1]
            leaves[leaf] += count
            if leaf == _DRIVER_WAIT:
                kinds["waiting for PostgreSQL (psycopg Connection.wait)"] += 1 * count
            elif "(psycopg/" in leaf:
                kinds["psycopg in Python (adapting parameters, loading rows)"] += count
            elif any(f"({m}/" in leaf for m in ("redis", "kombu", "celery")):
                kinds["Redis, kombu, Celery"] += count
            else:
                kinds["other Python (project, Django, DRF, stdlib)"] += count
    if not total:
        print(f"  no samples under {root}")
        return
    print(f"  {total:,} samples under {root} (py-spy, 50 a second per busy thread)")
    for kind, count in kinds.most_common():
        print(f"    {count / total * 100:5.1f} %  {kind}")
    print_table(
        ["  project function (inclusive)", "share"],
        [
            (f"  {label}", f"{count / total * 100:.1f} %")
            for label, count in inclusive.most_common(top)
        ],
    )
    print_table(
        ["  leaf function (self)", "share"],
        [
            (f"  {label}", f"{count / total * 100:.1f} %")
            for label, count in leaves.most_common(top)
        ],
    )


# --- posting -----------------------------------------------------------------------------------


@dataclass
class IngestStats:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    requests: int = 0
    retries: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    posted: int = 0


def post_all(
    port: int,
    bodies: list[tuple[int, bytes]],
    keys: dict[int, str],
    clients: int,
    sizes: list[int],
    stats: IngestStats,
) -> None:
    """Post every batch, in order, from `clients` threads with keep-alive connections."""
    work: queue.Queue[int] = queue.Queue()
    for index in range(len(bodies)):
        work.put(index)
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            try:
                index = work.get_nowait()
            except queue.Empty:
                conn.close()
                return
            brand, body = bodies[index]
            headers = {
                "Authorization": f"Bearer {keys[brand]}",
                "Content-Type": "application/json",
            }
            for attempt in range(10):
                start = time.perf_counter()
                try:
                    conn.request("POST", API_PATH, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    error = f"{type(exc).__name__}: {exc}"
                    status = 0
                else:
                    status = response.status
                    error = f"{status} {payload[:200]!r}"
                elapsed = (time.perf_counter() - start) * 1000
                if status == 202:
                    answer = json.loads(payload)
                    with lock:
                        stats.requests += 1
                        stats.latencies_ms.append(elapsed)
                        stats.accepted += answer["accepted"]
                        stats.duplicates += answer["duplicates"]
                        stats.rejected += len(answer["rejected"])
                        stats.posted += sizes[index]
                        if answer["rejected"]:
                            stats.errors.append(json.dumps(answer["rejected"][:3]))
                    break
                with lock:
                    stats.retries += 1
                    stats.errors.append(error)
                time.sleep(min(5.0, 0.2 * 2**attempt))
            else:
                with lock:
                    stats.errors.append(f"batch {index} given up after 10 attempts")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def unprocessed(conn: psycopg.Connection[Any]) -> int:
    """Events not processed yet: a count over the partial index, not free with a large
    backlog (about 0.1 s at 700k), so it is asked every few seconds only."""
    row = conn.execute(
        "SELECT count(*) FROM payouts_orderevent WHERE processed_at IS NULL"
    ).fetchone()
    return int(row[0]) if row else 0


def any_unprocessed(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM payouts_orderevent WHERE processed_at IS NULL)"
    ).fetchone()
    return bool(row and row[0])


class Progress(threading.Thread):
    """A line every `interval` seconds while events are posted."""

    def __init__(self, url: str, stats: IngestStats, started: float, interval: float = 15) -> None:
        super().__init__(daemon=True)
        self.url, self.stats, self.started, self.interval = url, stats, started, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.wait(self.interval):
                elapsed = time.perf_counter() - self.started
                posted = self.stats.posted
                print(
                    f"  {elapsed:6.0f} s  posted {posted:,} ({posted / elapsed:,.0f}/s)  "
                    f"unprocessed {unprocessed(conn):,}  load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def drain(url: str, timeout: float, stall_seconds: float = 60) -> tuple[bool, int]:
    """Wait until no event is left unprocessed (asked twice a second; counted every 15 s for
    the progress line). If the count does not move for `stall_seconds`, enqueue the
    unprocessed batches again, as beat's sweeper would. Returns (drained, sweeps)."""
    from payouts.processing import order_events_sweep

    deadline = time.monotonic() + timeout
    sweeps = 0
    last_count, last_change = -1, time.monotonic()
    next_count = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while any_unprocessed(conn):
            now = time.monotonic()
            if now >= next_count:
                count = unprocessed(conn)
                print(f"  draining: {count:,} unprocessed", flush=True)
                next_count = now + 15
                if count != last_count:
                    last_count, last_change = count, now
                elif now - last_change > stall_seconds:
                    sweeps += 1
                    enqueued = order_events_sweep(older_than_seconds=0)
                    print(
                        f"  processing stalled at {count:,} unprocessed: swept {enqueued} batches"
                    )
                    last_change = now
            if now > deadline:
                return False, sweeps
            time.sleep(0.5)
    return True, sweeps


# --- checks ------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_command(args: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = (done.stdout + done.stderr).strip()
    return done.returncode, output, time.perf_counter() - start


def last_lines(text: str, n: int = 4) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-n:])


def command_checks(env: dict[str, str]) -> list[Check]:
    checks = []
    code, output, seconds = run_command(["recompute_earnings", "--verify"], env, 3600)
    if "Unknown command" in output:
        checks.append(Check("recompute_earnings --verify", False, "the command does not exist yet"))
    else:
        checks.append(
            Check(
                "recompute_earnings --verify",
                code == 0,
                f"exit {code} in {seconds:.1f} s: {last_lines(output)}",
            )
        )
    code, output, seconds = run_command(["check_ledger"], env, 3600)
    checks.append(
        Check("check_ledger", code == 0, f"exit {code} in {seconds:.1f} s: {last_lines(output)}")
    )
    return checks


def own_checks(url: str, plan: Plan, stats: IngestStats) -> list[Check]:
    """What this script knows independently: every event stored once and processed, the
    commissions per currency equal to the rules applied to the generated orders, and the
    creators' pending balances equal to the commissions."""
    expected = plan.expected
    checks = [
        Check(
            "API answers",
            stats.accepted == len(plan.unique)
            and stats.duplicates == plan.counts["duplicates"]
            and stats.rejected == 0,
            f"accepted {stats.accepted:,} (expected {len(plan.unique):,}), duplicates "
            f"{stats.duplicates:,} (expected {plan.counts['duplicates']:,}), rejected "
            f"{stats.rejected}",
        )
    ]
    with psycopg.connect(url) as conn:
        stored, left = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE processed_at IS NULL) FROM payouts_orderevent"
        ).fetchone() or (0, 0)
        checks.append(
            Check(
                "events stored and processed",
                stored == len(plan.unique) and left == 0,
                f"{stored:,} stored, {left:,} unprocessed",
            )
        )
        orders, unattributed = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE unattributed_reason <> '') FROM payouts_order"
        ).fetchone() or (0, 0)
        checks.append(
            Check(
                "orders",
                orders == expected.orders and unattributed == expected.unattributed_orders,
                f"{orders:,} orders (expected {expected.orders:,}), {unattributed:,} "
                f"unattributed (expected {expected.unattributed_orders:,})",
            )
        )
        commissions = dict(
            conn.execute(
                "SELECT currency, sum(amount_minor) FROM payouts_commission GROUP BY currency"
            ).fetchall()
        )
        nonzero = conn.execute(
            "SELECT count(*) FROM payouts_commission WHERE amount_minor <> 0"
        ).fetchone()
        wanted = {c: v for c, v in expected.commission_by_currency.items() if v}
        got = {c: int(v) for c, v in commissions.items() if v}
        checks.append(
            Check(
                "commissions by the rules",
                got == wanted and nonzero is not None and nonzero[0] == expected.commissions,
                f"{nonzero[0] if nonzero else 0:,} non-zero (expected {expected.commissions:,}); "
                + ", ".join(
                    f"{c} {got.get(c, 0) / 100:,.2f}"
                    + (
                        ""
                        if got.get(c, 0) == wanted.get(c, 0)
                        else f" ≠ {wanted.get(c, 0) / 100:,.2f}"
                    )
                    for c in sorted(set(got) | set(wanted))
                ),
            )
        )
        pending = {
            c: int(v)
            for c, v in conn.execute(
                """
                SELECT a.currency, sum(b.balance_minor)
                FROM payouts_ledgerbalance b JOIN payouts_ledgeraccount a ON a.id = b.account_id
                WHERE a.kind = 'creator_pending' GROUP BY a.currency
                """
            ).fetchall()
            if v
        }
        checks.append(
            Check(
                "creators' pending balances = commissions",
                pending == got,
                ", ".join(f"{c} {v / 100:,.2f}" for c, v in sorted(pending.items())),
            )
        )
    return checks


def task_durations(log_paths: list[Path]) -> tuple[list[float], int]:
    """Seconds per processing task, from the workers' INFO lines; and how many failed or
    were retried."""
    durations: list[float] = []
    failures = 0
    for path in log_paths:
        with contextlib.suppress(OSError):
            for line in path.read_text(errors="replace").splitlines():
                match = re.search(r"order_events_process_batch\[.*\] succeeded in ([0-9.]+)s", line)
                if match:
                    durations.append(float(match.group(1)))
                elif "order_events_process_batch" in line and (
                    " retry" in line.lower() or " raised" in line
                ):
                    failures += 1
    return durations, failures


# --- main --------------------------------------------------------------------------------------


def interrupted(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=int(os.environ.get("EVENTS", 1_000_000)))
    parser.add_argument("--creators", type=int, default=CREATORS)
    parser.add_argument("--clients", type=int, default=4, help="concurrent posting clients")
    parser.add_argument("--web-workers", type=int, help="gunicorn workers (Procfile: 2)")
    parser.add_argument("--worker-nodes", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, help="per Celery worker (Procfile: 2)")
    parser.add_argument("--floor-repeat", type=int, default=3, help="floor runs (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="drain timeout, s")
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=30,
        help="seconds between ANALYZEs of the pipeline's tables when the server runs "
        "without autovacuum (0: never)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record the server and the workers with py-spy (pip install py-spy) and print "
        "where the time goes",
    )
    args = parser.parse_args()
    # Stop the server and the workers on SIGTERM or Ctrl-C too (the `finally` below), even
    # when started in the background, where SIGINT is ignored.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)

    os.environ["BENCH_DATABASE_URL"] = (
        os.environ.get("BENCH_PIPELINE_DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    url = bench_database_url()
    redis_url = os.environ.get("BENCH_PIPELINE_REDIS_URL") or DEFAULT_REDIS_URL
    env = bench_environment(url, redis_url)
    os.environ.update(env)
    print(
        f"events: {args.events:,}; database: {database_name(url)} (recreated); redis: {redis_url}"
    )
    print(load_average())
    autovacuum = autovacuum_on(url.rsplit("/", 1)[0] + "/postgres")
    if not autovacuum:
        print(
            "autovacuum is off on this server: the script runs ANALYZE on the pipeline's "
            + (
                f"tables every {args.analyze_every:.0f} s instead (no VACUUM)"
                if args.analyze_every > 0
                else "tables never (--analyze-every 0)"
            )
        )

    begin = time.perf_counter()
    reset_database(url)
    migrate(url)
    setup_django(url)
    reset_redis(redis_url)
    migrated = time.perf_counter()
    print(f"database: recreated and migrated in {migrated - begin:.1f} s")

    from django.utils import timezone

    now = timezone.now().replace(microsecond=0)
    world = build_world(args.seed, now, args.creators)
    seed(url, world, args.creators)
    create_api_keys(world)
    seeded = time.perf_counter()
    print(
        f"seed: {BRANDS} brands, {len(world.campaigns):,} campaigns, {args.creators:,} creators, "
        f"{len(world.collaborations):,} collaborations in {seeded - migrated:.1f} s"
    )

    plan = plan_events(world, args.events, args.seed)
    stored_clicks = store_clicks(world, plan)
    bodies = encode_batches(plan, world)
    sizes = [len(batch) for batch in plan.sends]
    floor_data = floor_copy_text(plan)
    planned = time.perf_counter()
    counts = plan.counts
    print(
        f"events: {counts['posted']:,} to post in {counts['batches']:,} batches "
        f"({sum(len(b) for _k, b in bodies) / 1e6:.0f} MB of JSON): {counts['unique']:,} unique "
        f"({counts['paid']:,} order.paid, {counts['refunds']:,} order.refunded of which "
        f"{counts['second_refunds']:,} second refunds, {counts['cancels']:,} order.cancelled), "
        f"{counts['duplicates']:,} sent again, {counts['out_of_order']:,} sent before their "
        f"order.paid; {counts['unattributed_orders']:,} unattributed orders, "
        f"{counts['click_orders']:,} by click ({stored_clicks:,} clicks stored); "
        f"generated in {planned - seeded:.1f} s"
    )

    floors = []
    for _ in range(args.floor_repeat):
        floors.append(measure_floor(url, floor_data))
    copy_s, group_s, summed = sorted(floors, key=lambda f: f[0] + f[1])[len(floors) // 2]
    floor_seconds = copy_s + group_s
    del floor_data
    print(
        f"floor: COPY {counts['unique']:,} rows {copy_s:.2f} s + GROUP BY ({summed:,} creator "
        f"sums) {group_s:.2f} s = {floor_seconds:.2f} s (median of "
        + ", ".join(f"{c + g:.2f}" for c, g, _n in floors)
        + ")"
    )

    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        folder = Path(tmp)
        port = free_port()
        web = start("web", web_command(port, args.web_workers), env, folder / "web.log")
        workers = [
            start(f"worker{n}", worker_command(n, args.concurrency), env, folder / f"worker{n}.log")
            for n in range(args.worker_nodes)
        ]
        services = [web, *workers]
        try:
            wait_for_web(web, port)
            for worker in workers:
                wait_for_worker(worker)
            print("server:", " ".join(web.process.args))  # type: ignore[arg-type]
            print("workers:", " ".join(workers[0].process.args), f"× {len(workers)}")  # type: ignore[arg-type]
            print(f"ingest: {args.clients} clients posting; {load_average()}")

            roots = {"web": web.process.pid} | {w.name: w.process.pid for w in workers}
            profilers = start_profilers(roots, folder) if args.profile else []
            sampler = Sampler(url, roots)
            sampler.start()
            analyzer = Analyzer(url, args.analyze_every)
            if not autovacuum and args.analyze_every > 0:
                analyzer.start()
            started = time.perf_counter()
            stats = IngestStats()
            progress = Progress(url, stats, started)
            progress.start()
            post_all(port, bodies, world.api_keys, args.clients, sizes, stats)
            ingested = time.perf_counter()
            progress.stop()
            sampler.phase = "drain"
            ingest_s = ingested - started
            print(
                f"ingest: {stats.posted:,} events in {stats.requests:,} requests, "
                f"{ingest_s:.1f} s ({stats.posted / ingest_s:,.0f} events/s); request p50 "
                f"{percentile(stats.latencies_ms, 50):.0f} ms, p95 "
                f"{percentile(stats.latencies_ms, 95):.0f} ms; retries {stats.retries}"
            )
            for error in stats.errors[:5]:
                print(f"  error: {error}")
            drained, sweeps = drain(url, args.timeout)
            finished = time.perf_counter()
            sampler.stop()
            if analyzer.is_alive():
                analyzer.stop()
            stop_profilers(profilers)
            seconds = finished - started
            print(
                f"processing: {'drained' if drained else 'NOT drained'} {finished - ingested:.1f} s "
                f"after the last batch was accepted; sweeps {sweeps}"
            )
        finally:
            for service in services:
                stop(service)
        durations, failures = task_durations([w.log_path for w in workers])
        for name, _process, output in profilers:
            print(f"\nprofile of {name}:")
            summarize_profile(output, PROFILE_ROOTS["web" if name == "web" else "worker"])
            if os.environ.get("BENCH_KEEP_PROFILES"):
                shutil.copy(output, os.environ["BENCH_KEEP_PROFILES"])
        tail = {s.name: last_lines(s.log_path.read_text(errors="replace"), 3) for s in services}

    print()
    print(f"total: {seconds:.1f} s for {stats.posted:,} events ({stats.posted / seconds:,.0f}/s)")
    if analyzer.runs:
        print(
            f"analyze: {len(analyzer.runs)} runs, {sum(analyzer.runs):.1f} s in all, the "
            f"longest {max(analyzer.runs):.1f} s"
        )
    if durations:
        print(
            f"tasks: {len(durations):,} batches processed, {sum(durations):.1f} task-seconds; per "
            f"batch p50 {statistics.median(durations):.2f} s, p95 {percentile(durations, 95):.2f} "
            f"s, max {max(durations):.2f} s; failed or retried {failures}"
        )
    cpu = sampler.cpu_by_group()
    capacity = seconds * (os.cpu_count() or 1)
    print_table(
        ["process group", "CPU s", "share of the machine", "peak RSS MB"],
        [
            (
                group,
                used,
                f"{used / capacity * 100:.0f} %",
                sampler.peak_by_group_kb[group] / 1024 if group in sampler.peak_by_group_kb else "",
            )
            for group, used in sorted(cpu.items(), key=lambda kv: -kv[1])
        ],
    )
    busy = sampler.active_samples / max(1, sampler.ticks)
    print(
        f"\nPostgreSQL: {busy:.2f} bench backends active on average (ingest "
        f"{sampler.phase_active['ingest'] / max(1, sampler.phase_ticks['ingest']):.2f}, drain "
        f"{sampler.phase_active['drain'] / max(1, sampler.phase_ticks['drain']):.2f}); "
        f"{sampler.ticks} samples of pg_stat_activity"
    )
    print_table(
        ["statement (active samples)", "samples", "share"],
        [
            (label, n, f"{n / max(1, sampler.active_samples) * 100:.0f} %")
            for label, n in sampler.active.most_common(12)
        ],
    )
    print()
    print_table(
        ["wait event (active samples)", "samples", "share"],
        [
            (label, n, f"{n / max(1, sampler.active_samples) * 100:.0f} %")
            for label, n in sampler.waits.most_common(8)
        ],
    )
    print()

    checks = [Check("drained", drained, f"sweeps {sweeps}")]
    if drained:
        checks += own_checks(url, plan, stats)
        checks += command_checks(env)
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    verified = all(check.ok for check in checks)
    if not verified:
        for name, lines in tail.items():
            print(f"  {name} log: {lines}")
    print(load_average())
    peak_mb = sampler.peak_total_kb / 1024
    print(
        f"peak RSS: {peak_mb:.0f} MB summed over the server and worker processes "
        f"(largest single process {sampler.peak_process_kb / 1024:.0f} MB)"
    )
    print(
        result_line(
            events=stats.posted,
            seconds=f"{seconds:.1f}",
            events_per_s=round(stats.posted / seconds),
            floor_seconds=f"{floor_seconds:.2f}",
            ratio=f"{seconds / floor_seconds:.1f}",
            verified="yes" if verified else "no",
            peak_rss_mb=round(peak_mb),
        )
    )


if __name__ == "__main__":
    main()
