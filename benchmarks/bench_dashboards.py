"""Benchmark the creator and brand dashboards and the commissions API on 1,000,000 commissions.

    make bench-dashboards                 # or: .venv/bin/python benchmarks/bench_dashboards.py
    .venv/bin/python benchmarks/bench_dashboards.py --reseed --repeat 100

Uses the earnings pipeline benchmark's database when it holds at least 1,000,000 commissions
across 100,000 creators; otherwise seeds its own, `connect_bench_dashboards` (or
BENCH_DASHBOARDS_DATABASE_URL; `common.py`'s refusals apply), once, in SQL and by COPY:
100,000 creators (the directory benchmark's generator), 40 brands, 595 campaigns, about
140,000 collaborations, 1,050,000 orders over the last 365 days with their order events,
1,000,000 commissions, ledger balances posted through the ledger service, daily click
counts, and the rollups rebuilt from all of it.

Then it requests the real pages through Django's test client (DEBUG off), round-robin: the
largest creator's dashboard, the largest brand's dashboard (30 and 365 days each), the
first page of /api/v1/commissions with the brand's API key and as the creator, and
/robots.txt as the floor. It prints p50/p95/p99, the statements per request and their
time, and EXPLAIN (ANALYZE, BUFFERS) of each page's slowest statements. The last line is
machine-readable:

    RESULT commissions=<n> creator_p95_ms=<n> brand_p95_ms=<n> api_p95_ms=<n> trivial_p95_ms=<n>
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import re
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from bench_directory import (
    QueryRecorder,
    explain,
    plan_summary,
    print_tree,
    walk,
)
from bench_directory import seed as seed_creators
from bench_pipeline import CURRENCY_SCALE
from bench_pipeline import DEFAULT_DATABASE_URL as PIPELINE_DATABASE_URL
from common import (
    BASE_DIR,
    Timing,
    bench_database_url,
    copy_rows,
    database_name,
    drop_secondary_indexes,
    ensure_database,
    load_average,
    migrate,
    percentile,
    print_table,
    result_line,
    setup_django,
    time_interleaved,
    vacuum_analyze,
)
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/connect_bench_dashboards"
MIN_COMMISSIONS = 1_000_000
MIN_CREATORS = 100_000
TARGET_P95_MS = 50.0
STALE_DAYS = 7  # reseed when the newest seeded order is older than this
SLOW_STATEMENT_MS = 5.0
BRAND_EMAIL = "bench-dashboards-brand@connect.localhost"
API_KEY_NAME = "Dashboard benchmark"

# --- what the seeded marketplace looks like --------------------------------------------------

BRANDS = 40
BIG_BRAND_CAMPAIGNS = 10
CAMPAIGNS_PER_BRAND = 15
BIG_BRAND_SHARE = 0.40  # of all commissions
UNATTRIBUTED_SHARE = 0.05  # extra orders nobody is credited with, per brand
SECOND_COLLABORATION = 0.30  # creators in a second campaign
THIRD_COLLABORATION = 0.10  # ... and a third
BIG_BRAND_PICK = 0.30  # share of collaborations in the largest brand's campaigns
APPLICATIONS_PER_CREATOR = 0.02  # pending applications
TOP_CREATOR = 1  # the creator profile made the largest
# The largest creator's collaborations: (campaign index in the largest brand, or None for
# the second brand's first campaign, share of their commissions).
TOP_CREATOR_CAMPAIGNS = [(0, 0.45), (1, 0.25), (8, 0.15), (None, 0.15)]
SPAN_DAYS = 365
HOLD_DAYS = 30
CANCEL_SHARE = 0.015
FULL_REFUND_SHARE = 0.015
PARTIAL_REFUND_SHARE = 0.07
REJECTED_SHARE = 0.004  # of the order.paid events: refused events besides them
DUPLICATE_SHARE = 0.01

BRAND_WORDS = ["Aurora", "Nordlys", "Verde", "Solana", "Kora", "Lumen", "Atlas", "Maris"]
BRAND_KINDS = ["Cosmetics", "Outdoor", "Coffee", "Studio", "Kids", "Home", "Pets", "Tea"]
CAMPAIGN_SEASONS = ["Spring", "Summer", "Autumn", "Winter", "Holiday", "Launch", "Evergreen"]
CAMPAIGN_THINGS = ["capsule", "collection", "drop", "bundle", "edit", "essentials", "set"]
# Brand currencies, most in euros. Amounts scale by CURRENCY_SCALE (bench_pipeline).
BRAND_CURRENCIES = ["EUR", "EUR", "PLN", "EUR", "GBP", "EUR", "USD", "PLN", "SEK", "EUR"]
PERCENTS = ["5.00", "7.50", "8.00", "10.00", "12.50", "15.00", "20.00"]
FIXED_EUR_MINOR = [300, 500, 1000, 1500]
REJECTIONS = [  # (field at fault, the error the brand was given)
    ("amount", "Enter an amount greater than zero."),
    ("currency", "Enter an ISO 4217 currency code, like EUR."),
    ("occurred_at", "Enter an RFC 3339 timestamp with a time zone."),
    ("type", "Choose order.paid, order.refunded or order.cancelled."),
]

# Tables the seed writes (and VACUUM (ANALYZE)s afterwards), besides the directory's.
SEEDED_TABLES = (
    "connect_user",
    "campaigns_brand",
    "campaigns_brandmembership",
    "campaigns_campaign",
    "campaigns_campaignterms",
    "campaigns_campaignactiveperiod",
    "campaigns_collaboration",
    "campaigns_clickdailycount",
    "campaigns_campaignclickday",
    "payouts_order",
    "payouts_commission",
    "payouts_orderevent",
    "payouts_rejectedorderevent",
    "payouts_duplicateorderevent",
    "payouts_ledgeraccount",
    "payouts_ledgerbalance",
    "payouts_ledgertransaction",
    "payouts_ledgerentry",
    "payouts_collaborationday",
    "payouts_campaignday",
    "payouts_collaborationtotal",
    "payouts_creatormaturity",
    "payouts_brandeventday",
)
ROLLUP_TABLES = (
    "payouts_collaborationday",
    "payouts_campaignday",
    "payouts_collaborationtotal",
    "payouts_creatormaturity",
    "payouts_brandeventday",
    "campaigns_campaignclickday",
)
# Bulk-loaded tables whose unconstrained indexes are built once after the load.
BULK_TABLES = (
    "campaigns_collaboration",
    "payouts_order",
    "payouts_commission",
    "payouts_orderevent",
    "payouts_rejectedorderevent",
    "payouts_duplicateorderevent",
    "campaigns_clickdailycount",
)


@dataclass
class CampaignRow:
    pk: int
    brand_id: int
    currency: str
    percent: str | None
    fixed_minor: int | None


@dataclass
class CollaborationRow:
    pk: int
    campaign: CampaignRow
    creator_id: int
    status: str = "active"
    commissions: int = 0


@dataclass
class World:
    brands: list[tuple[int, str, str]]  # (id, name, currency)
    campaigns: list[CampaignRow]
    collaborations: list[CollaborationRow]
    unattributed: dict[int, int] = field(default_factory=dict)  # brand id -> orders


def brand_name(n: int) -> str:
    word = BRAND_WORDS[(n - 1) % len(BRAND_WORDS)]
    kind = BRAND_KINDS[((n - 1) // len(BRAND_WORDS) + n) % len(BRAND_KINDS)]
    return f"{word} {kind}"


def build_world(rng: random.Random, creators: int, commissions: int, top: int) -> World:
    """Brands, campaigns and collaborations, and how many commissions each collaboration
    gets: the largest creator `top`, the largest brand BIG_BRAND_SHARE of all, the rest
    Pareto-distributed (most collaborations sell little or nothing)."""
    brands = [
        (b, brand_name(b), "EUR" if b == 1 else BRAND_CURRENCIES[b % len(BRAND_CURRENCIES)])
        for b in range(1, BRANDS + 1)
    ]
    campaigns: list[CampaignRow] = []
    for b, _name, main_currency in brands:
        for i in range(BIG_BRAND_CAMPAIGNS if b == 1 else CAMPAIGNS_PER_BRAND):
            if b == 1:
                currency = "PLN" if i in (8, 9) else "EUR"
            else:
                currency = main_currency if rng.random() < 0.85 else rng.choice(BRAND_CURRENCIES)
            fixed = rng.random() < 0.25
            campaigns.append(
                CampaignRow(
                    pk=len(campaigns) + 1,
                    brand_id=b,
                    currency=currency,
                    percent=None if fixed else rng.choice(PERCENTS),
                    fixed_minor=rng.choice(FIXED_EUR_MINOR) * CURRENCY_SCALE[currency]
                    if fixed
                    else None,
                )
            )
    big = [c for c in campaigns if c.brand_id == 1]
    others = [c for c in campaigns if c.brand_id != 1]
    second_brand_first = others[0]
    # Popular campaigns draw more creators (Zipf-like).
    big_w = list(itertools.accumulate(1 / (r + 1) ** 0.8 for r in range(len(big))))
    other_w = list(itertools.accumulate(1 / (r + 5) ** 0.7 for r in range(len(others))))

    collaborations: list[CollaborationRow] = []
    for campaign_index, _share in TOP_CREATOR_CAMPAIGNS:
        campaign = big[campaign_index] if campaign_index is not None else second_brand_first
        collaborations.append(CollaborationRow(len(collaborations) + 1, campaign, TOP_CREATOR))
    for creator in range(1, creators + 1):
        if creator == TOP_CREATOR:
            continue
        count = 1 + (rng.random() < SECOND_COLLABORATION) + (rng.random() < THIRD_COLLABORATION)
        taken: set[int] = set()
        for _ in range(count):
            if rng.random() < BIG_BRAND_PICK:
                campaign = rng.choices(big, cum_weights=big_w)[0]
            else:
                campaign = rng.choices(others, cum_weights=other_w)[0]
            if campaign.pk not in taken:
                taken.add(campaign.pk)
                collaborations.append(CollaborationRow(len(collaborations) + 1, campaign, creator))
        if rng.random() < APPLICATIONS_PER_CREATOR:
            campaign = rng.choice(big if rng.random() < 0.4 else others)
            if campaign.pk not in taken:
                collaborations.append(
                    CollaborationRow(len(collaborations) + 1, campaign, creator, status="applied")
                )

    # Commissions per collaboration.
    top_rows = collaborations[: len(TOP_CREATOR_CAMPAIGNS)]
    shares = [share for _i, share in TOP_CREATOR_CAMPAIGNS]
    for row, n in zip(top_rows, apportion(top, shares), strict=True):
        row.commissions = n
    big_total = round(commissions * BIG_BRAND_SHARE)
    top_in_big = sum(r.commissions for r in top_rows if r.campaign.brand_id == 1)
    top_outside = top - top_in_big
    if big_total < top_in_big or commissions - big_total < top_outside:
        raise SystemExit("--top-creator is too large for --commissions.")
    rest = [r for r in collaborations[len(top_rows) :] if r.status == "active"]
    # Nobody else comes near the largest creator: weights are capped.
    weights = {r.pk: min(rng.paretovariate(1.16), 400.0) for r in rest}
    for group, total in (
        ([r for r in rest if r.campaign.brand_id == 1], big_total - top_in_big),
        ([r for r in rest if r.campaign.brand_id != 1], commissions - big_total - top_outside),
    ):
        for row, n in zip(group, apportion(total, [weights[r.pk] for r in group]), strict=True):
            row.commissions = n

    per_brand: dict[int, int] = defaultdict(int)
    for row in collaborations:
        per_brand[row.campaign.brand_id] += row.commissions
    unattributed = {b: round(n * UNATTRIBUTED_SHARE) for b, n in per_brand.items()}
    return World(brands, campaigns, collaborations, unattributed)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainders)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [math.floor(x) for x in exact]
    left = total - sum(counts)
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts


# --- seeding -------------------------------------------------------------------------------


class Phases:
    """Wall-clock time of each seeding step, printed as it goes."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()

    def done(self, what: str) -> None:
        now = time.perf_counter()
        print(f"seed: {what} in {now - self.last:.1f}s")
        self.last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self.start


def seed(url: str, creators: int, commissions: int, top: int, seed_value: int) -> float:
    """Replace the bench database's data with the generated marketplace. Returns seconds."""
    from campaigns.models import (
        Brand,
        BrandMembership,
        Campaign,
        CampaignActivePeriod,
        CampaignTerms,
        Collaboration,
    )
    from connect.models import User

    phases = Phases()
    with psycopg.connect(url) as conn:
        conn.execute(
            "TRUNCATE connect_user, campaigns_brand, payouts_ledgertransaction, "
            "payouts_ledgeraccount, payouts_orderevent, payouts_rejectedorderevent, "
            "payouts_duplicateorderevent, payouts_order, payouts_commission, "
            + ", ".join(ROLLUP_TABLES)
            + ", campaigns_clickdailycount, django_session RESTART IDENTITY CASCADE"
        )
    seed_creators(url, creators, seed_value)
    phases.done(f"{creators:,} creators (bench_directory's generator)")

    rng = random.Random(seed_value)
    world = build_world(rng, creators, commissions, top)
    now = datetime.now(UTC).replace(microsecond=0)
    started = now - timedelta(days=SPAN_DAYS + 35)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SET maintenance_work_mem = '512MB'")
        # The creator made largest must be able to log in.
        cur.execute("UPDATE connect_user SET is_active = true WHERE id = %s", [TOP_CREATOR])
        niche_ids = [row[0] for row in cur.execute("SELECT id FROM connect_niche ORDER BY id")]
        (last_user,) = cur.execute("SELECT max(id) FROM connect_user").fetchone() or (0,)
        first_user = int(last_user) + 1
        index_definitions = drop_secondary_indexes(cur, BULK_TABLES)
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        copy_rows(
            cur,
            User,
            "id, password, is_superuser, first_name, last_name, is_staff, is_active, "
            "date_joined, email",
            (
                (first_user + b - 1, "!", False, "", "", False, True, started, f"owner{b}@b.test")
                for b, _name, _currency in world.brands
            ),
        )
        copy_rows(
            cur,
            Brand,
            "id, name, slug, website, country, verified_at, created_at",
            (
                (
                    b,
                    name,
                    f"{name.lower().replace(' ', '-')}-{b}",
                    f"https://brand{b}.example.com",
                    "PL" if currency == "PLN" else "ES",
                    started,
                    started,
                )
                for b, name, currency in world.brands
            ),
        )
        copy_rows(
            cur,
            BrandMembership,
            "brand_id, user_id, role, created_at",
            ((b, first_user + b - 1, "owner", started) for b, _n, _c in world.brands),
        )
        copy_rows(
            cur,
            Campaign,
            "id, brand_id, title, landing_url, niche_id, currency, status, published_at, "
            "created_at, updated_at",
            (
                (
                    c.pk,
                    c.brand_id,
                    f"{CAMPAIGN_SEASONS[c.pk % len(CAMPAIGN_SEASONS)]} "
                    f"{CAMPAIGN_THINGS[(c.pk // 3) % len(CAMPAIGN_THINGS)]} {c.pk}",
                    f"https://brand{c.brand_id}.example.com/c/{c.pk}",
                    niche_ids[c.pk % len(niche_ids)],
                    c.currency,
                    "active",
                    started,
                    started,
                    started,
                )
                for c in world.campaigns
            ),
        )
        copy_rows(
            cur,
            CampaignTerms,
            "id, campaign_id, effective_from, commission_type, commission_percent, "
            "commission_fixed_minor, hold_days, attribution_window_days, created_at",
            (
                (
                    c.pk,
                    c.pk,
                    started,
                    "percent" if c.percent else "fixed",
                    c.percent,
                    c.fixed_minor,
                    HOLD_DAYS,
                    30,
                    started,
                )
                for c in world.campaigns
            ),
        )
        copy_rows(
            cur,
            CampaignActivePeriod,
            "campaign_id, started_at",
            ((c.pk, started) for c in world.campaigns),
        )
        copy_rows(
            cur,
            Collaboration,
            "id, campaign_id, brand_id, creator_id, status, tracking_code, discount_code, "
            "activated_at, created_at, updated_at",
            (
                (
                    r.pk,
                    r.campaign.pk,
                    r.campaign.brand_id,
                    r.creator_id,
                    r.status,
                    f"bd{r.pk:09d}" if r.status == "active" else None,
                    f"CODE{r.pk:07d}" if r.status == "active" else None,
                    started if r.status == "active" else None,
                    started - timedelta(days=2),
                    started,
                )
                for r in world.collaborations
            ),
        )
        phases.done(
            f"{len(world.brands)} brands, {len(world.campaigns)} campaigns, "
            f"{len(world.collaborations):,} collaborations"
        )

        # What to generate: one row per collaboration (and one per brand for the orders
        # nobody is credited with), with the numbers of its first and last orders.
        cur.execute(
            """
            CREATE TEMP TABLE bench_source (
                collaboration_id bigint, creator_id bigint, campaign_id bigint,
                brand_id bigint NOT NULL, currency varchar(3) NOT NULL, scale int NOT NULL,
                percent numeric(5, 2), fixed_minor bigint, terms_id bigint, code text,
                first_id bigint NOT NULL, n int NOT NULL
            )
            """
        )
        next_id = 1
        source_rows: list[tuple[Any, ...]] = []
        for r in world.collaborations:
            if r.commissions:
                c = r.campaign
                source_rows.append(
                    (
                        r.pk,
                        r.creator_id,
                        c.pk,
                        c.brand_id,
                        c.currency,
                        CURRENCY_SCALE[c.currency],
                        c.percent,
                        c.fixed_minor,
                        c.pk,
                        f"CODE{r.pk:07d}",
                        next_id,
                        r.commissions,
                    )
                )
                next_id += r.commissions
        for b, _name, currency in world.brands:
            n = world.unattributed.get(b, 0)
            if n:
                scale = CURRENCY_SCALE[currency]
                no_collaboration = (None, None, None, None)
                source_rows.append(
                    (None, None, None, b, currency, scale, *no_collaboration, next_id, n)
                )
                next_id += n
        with cur.copy("COPY bench_source FROM STDIN") as copy:
            for row in source_rows:
                copy.write_row(row)

        # Every order, drawn in SQL: received over the last year (more recently, more), an
        # amount log-normal around 50.00 (in the currency's scale), a few refunds and
        # cancellations.
        cur.execute("SELECT setseed(%s)", [(seed_value % 1000) / 1000])
        cur.execute(
            """
            CREATE TEMP TABLE bench_sale AS
            WITH drawn AS (
                SELECT s.*, s.first_id + g - 1 AS id,
                       random() AS u_time, 1 - random() AS u1, random() AS u2,
                       random() AS u_refund, random() AS u_part, random() AS u_when,
                       random() AS u_reason
                FROM bench_source s CROSS JOIN LATERAL generate_series(1, s.n) AS g
            ), timed AS (
                SELECT d.*,
                       %(now)s::timestamptz - make_interval(
                           secs => 300 + (%(span)s * 86400 - 600) * power(d.u_time, 1.25)
                       ) AS received_at,
                       greatest(100, round(exp(ln(5000) + 0.8 * sqrt(-2 * ln(d.u1))
                                * cos(2 * pi() * d.u2))))::bigint * d.scale AS paid
                FROM drawn d
            ), refunded AS (
                SELECT t.*,
                       t.u_refund < %(cancel)s AS cancelled,
                       CASE
                           WHEN t.u_refund < %(cancel)s THEN 0
                           WHEN t.u_refund < %(cancel)s + %(full)s THEN t.paid
                           WHEN t.u_refund < %(cancel)s + %(full)s + %(partial)s
                               THEN greatest(1, round(t.paid * (0.1 + 0.5 * t.u_part)))::bigint
                           ELSE 0
                       END AS refunded,
                       t.received_at + (%(now)s::timestamptz - t.received_at) * t.u_when
                           AS changed_at
                FROM timed t
            ), earned AS (
                SELECT r.*,
                       CASE WHEN r.cancelled THEN 0 ELSE r.paid - r.refunded END AS net,
                       r.received_at + make_interval(days => %(hold)s) AS payable_at
                FROM refunded r
            ), commissioned AS (
                SELECT e.*,
                       CASE
                           WHEN e.collaboration_id IS NULL THEN 0
                           WHEN e.fixed_minor IS NOT NULL
                               THEN CASE WHEN e.net > 0 THEN e.fixed_minor ELSE 0 END
                           ELSE round(e.net * e.percent / 100)::bigint
                       END AS amount,
                       CASE
                           WHEN e.collaboration_id IS NULL THEN 0
                           WHEN e.fixed_minor IS NOT NULL THEN e.fixed_minor
                           ELSE round(e.paid * e.percent / 100)::bigint
                       END AS gross
                FROM earned e
            )
            SELECT c.*,
                   'BD' || lpad(c.id::text, 9, '0') AS order_ref,
                   c.received_at - make_interval(secs => c.u_when * 7200) AS occurred_at,
                   c.amount > 0 AND c.payable_at <= %(now)s AS matured,
                   CASE WHEN c.cancelled OR c.refunded > 0 THEN c.changed_at END AS refund_at,
                   md5(c.brand_id || ':' || date_trunc('hour', c.received_at))::uuid AS batch_id
            FROM commissioned c
            """,
            {
                "now": now,
                "span": SPAN_DAYS,
                "cancel": CANCEL_SHARE,
                "full": FULL_REFUND_SHARE,
                "partial": PARTIAL_REFUND_SHARE,
                "hold": HOLD_DAYS,
            },
        )
        phases.done(f"{next_id - 1:,} orders drawn")

        cur.execute(
            """
            INSERT INTO payouts_order (
                id, brand_id, order_id, currency, paid_event_id, paid_amount_minor,
                refunded_minor, net_amount_minor, over_refunded_minor, cancelled, awaiting_paid,
                conflicts, error, occurred_at, paid_received_at, collaboration_id, campaign_id,
                creator_id, via, terms_id, unattributed_reason, unattributed_params,
                commission_minor, event_count, created_at, updated_at
            )
            SELECT id, brand_id, order_ref, currency, order_ref || '-paid', paid,
                   CASE WHEN cancelled THEN 0 ELSE refunded END, net, 0, cancelled, false,
                   '{}', '', occurred_at, received_at, collaboration_id, campaign_id,
                   creator_id, CASE WHEN collaboration_id IS NULL THEN '' ELSE 'code' END,
                   terms_id,
                   CASE
                       WHEN collaboration_id IS NOT NULL THEN ''
                       WHEN u_reason < 0.6 THEN 'unknown_code'
                       ELSE 'no_code_or_click'
                   END,
                   CASE
                       WHEN collaboration_id IS NULL AND u_reason < 0.6
                           THEN jsonb_build_object('code', 'SUMMER' || (id % 97))
                       ELSE '{}'::jsonb
                   END,
                   amount, 1 + (refund_at IS NOT NULL)::int, received_at + interval '3 s',
                   coalesce(refund_at, received_at) + interval '3 s'
            FROM bench_sale ORDER BY id
            """
        )
        phases.done(f"{cur.rowcount:,} orders inserted")
        cur.execute(
            """
            INSERT INTO payouts_commission (
                id, order_id, collaboration_id, campaign_id, creator_id, brand_id, currency,
                amount_minor, uncapped_minor, gross_minor, budget_share_minor, budget_note,
                net_amount_minor, paid_received_at, order_ref, payable_at, matured,
                approved_at, status, pending_posted_minor, available_posted_minor, revision,
                created_at, updated_at
            )
            SELECT id, id, collaboration_id, campaign_id, creator_id, brand_id, currency,
                   amount, amount, gross, gross, '', net, received_at, order_ref, payable_at,
                   matured,
                   CASE WHEN matured THEN least(payable_at + interval '7 min', %(now)s) END,
                   CASE WHEN amount = 0 THEN 'void' WHEN matured THEN 'approved'
                        ELSE 'pending' END,
                   CASE WHEN matured THEN 0 ELSE amount END,
                   CASE WHEN matured THEN amount ELSE 0 END,
                   CASE WHEN amount = 0 THEN 0 ELSE 1 END
                       + (refund_at IS NOT NULL AND amount > 0)::int,
                   received_at + interval '3 s',
                   greatest(
                       received_at + interval '3 s',
                       refund_at + interval '3 s',
                       CASE WHEN matured THEN least(payable_at + interval '7 min', %(now)s) END
                   )
            FROM bench_sale WHERE collaboration_id IS NOT NULL ORDER BY id
            """,
            {"now": now},
        )
        phases.done(f"{cur.rowcount:,} commissions inserted")

        # The events they were made of, all processed, plus refused and repeated ones.
        cur.execute(
            """
            INSERT INTO payouts_orderevent (
                brand_id, event_id, type, order_id, occurred_at, amount_minor, currency, code,
                received_at, batch_id, source, processed_at, outcome, outcome_reason
            )
            SELECT brand_id, order_ref || '-paid', 'order.paid', order_ref, occurred_at, paid,
                   currency,
                   CASE
                       WHEN collaboration_id IS NOT NULL THEN code
                       WHEN u_reason < 0.6 THEN 'SUMMER' || (id % 97)
                   END,
                   received_at, batch_id, 'api', received_at + interval '2 s',
                   CASE WHEN collaboration_id IS NULL THEN 'unattributed' ELSE 'applied' END, ''
            FROM bench_sale
            UNION ALL
            SELECT brand_id, order_ref || CASE WHEN cancelled THEN '-cancel' ELSE '-refund' END,
                   CASE WHEN cancelled THEN 'order.cancelled' ELSE 'order.refunded' END,
                   order_ref, refund_at - interval '1 min',
                   CASE WHEN cancelled THEN NULL ELSE refunded END, currency, NULL, refund_at,
                   md5(brand_id || ':' || date_trunc('hour', refund_at))::uuid, 'api',
                   refund_at + interval '2 s',
                   CASE WHEN collaboration_id IS NULL THEN 'unattributed' ELSE 'applied' END, ''
            FROM bench_sale WHERE refund_at IS NOT NULL
            """
        )
        events = cur.rowcount
        cur.execute(
            """
            INSERT INTO payouts_rejectedorderevent (
                brand_id, received_at, batch_id, index, event_id, raw, error, error_field, source
            )
            SELECT s.brand_id, s.received_at, s.batch_id, (s.id %% 1000)::int,
                   s.order_ref || '-retry',
                   jsonb_build_object('id', s.order_ref || '-retry', 'type', 'order.paid',
                                      'order_id', s.order_ref, 'amount', '-1.00'),
                   r.error, r.field, 'api'
            FROM bench_sale s
            JOIN (SELECT * FROM unnest(%(fields)s::text[], %(errors)s::text[])
                  WITH ORDINALITY AS x(field, error, n)) r
              ON r.n = 1 + (s.id %% %(kinds)s)
            WHERE s.u_part < %(rejected)s
            """,
            {
                "fields": [f for f, _e in REJECTIONS],
                "errors": [e for _f, e in REJECTIONS],
                "kinds": len(REJECTIONS),
                "rejected": REJECTED_SHARE,
            },
        )
        rejected = cur.rowcount
        cur.execute(
            """
            INSERT INTO payouts_duplicateorderevent (brand_id, received_at, batch_id, event_id,
                                                     source)
            SELECT brand_id, received_at + interval '1 h', batch_id, order_ref || '-paid', 'api'
            FROM bench_sale WHERE u_time * 1000 - floor(u_time * 1000) < %s
            """,
            [DUPLICATE_SHARE],
        )
        phases.done(f"{events:,} order events, {rejected:,} refused, {cur.rowcount:,} duplicates")

        # Clicks per collaboration and day: the orders over a conversion rate of 2-5 % that
        # is the collaboration's own.
        cur.execute(
            """
            INSERT INTO campaigns_clickdailycount (collaboration_id, day, clicks)
            SELECT collaboration_id, (received_at AT TIME ZONE 'UTC')::date,
                   ceil(count(*) / (0.02 + 0.03 * ((collaboration_id * 2654435761) % 1000)
                                    / 1000.0))::bigint
            FROM bench_sale WHERE collaboration_id IS NOT NULL
            GROUP BY 1, 2
            """
        )
        phases.done(f"{cur.rowcount:,} daily click counts")
        for definition in index_definitions:
            cur.execute(definition)
        for table in (
            "connect_user",
            "campaigns_brand",
            "campaigns_campaign",
            "campaigns_campaignterms",
            "campaigns_collaboration",
            "payouts_order",
            "payouts_commission",
        ):
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({table}, 'id'), "
                    "(SELECT max(id) FROM {ident}))"
                ).format(table=sql.Literal(table), ident=sql.Identifier(table))
            )
        conn.commit()
        phases.done(f"{len(index_definitions)} indexes rebuilt")

    vacuum_analyze(url, ("payouts_commission", "payouts_order"))
    posted = post_ledger()
    phases.done(f"ledger: {posted:,} postings through ledger_post_many")
    from payouts.rollups import rollups_rebuild

    rollups_rebuild()
    phases.done("rollups_rebuild()")
    vacuum_analyze(url, SEEDED_TABLES)
    phases.done("VACUUM (ANALYZE)")
    print(f"seed: done in {phases.total:.1f}s")
    return phases.total


def post_ledger(chunk: int = 5000) -> int:
    """Give every creator with commissions real ledger balances, posted through the ledger
    service: per creator and currency one commission posting (the creator's pending account
    against each brand's commission owed) and one maturation of the approved part."""
    from django.db import connection

    from payouts.ledger import LedgerLine, LedgerPosting, ledger_accounts_ensure, ledger_post_many
    from payouts.models.ledger import LedgerAccountKind, LedgerTransactionKind

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT creator_id, currency, brand_id, sum(amount_minor),
                   sum(available_posted_minor)
            FROM payouts_commission WHERE amount_minor > 0
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            """
        )
        rows = cursor.fetchall()
    owed: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    matured: dict[tuple[int, str], int] = defaultdict(int)
    for creator_id, currency, brand_id, amount, available in rows:
        owed[(creator_id, currency)].append((brand_id, int(amount)))
        matured[(creator_id, currency)] += int(available)
    pending, available_kind, brand_kind = (
        LedgerAccountKind.CREATOR_PENDING,
        LedgerAccountKind.CREATOR_AVAILABLE,
        LedgerAccountKind.BRAND_COMMISSION_OWED,
    )
    keys = list(owed)
    total = 0
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        specs: set[tuple[str, str, int | None, int | None]] = set()
        for creator_id, currency in part:
            specs.add((pending, currency, creator_id, None))
            specs.add((available_kind, currency, creator_id, None))
            specs.update((brand_kind, currency, None, b) for b, _a in owed[(creator_id, currency)])
        accounts = ledger_accounts_ensure(sorted(specs, key=str))
        postings = []
        for creator_id, currency in part:
            brands = owed[(creator_id, currency)]
            lines = [
                LedgerLine(
                    accounts[(pending, currency, creator_id, None)],
                    sum(a for _b, a in brands),
                    currency,
                )
            ] + [
                LedgerLine(accounts[(brand_kind, currency, None, b)], -a, currency)
                for b, a in brands
            ]
            postings.append(
                LedgerPosting(
                    idempotency_key=f"bench-commission:{creator_id}:{currency}",
                    kind=LedgerTransactionKind.COMMISSION,
                    lines=lines,
                )
            )
            moved = matured[(creator_id, currency)]
            if moved:
                postings.append(
                    LedgerPosting(
                        idempotency_key=f"bench-maturation:{creator_id}:{currency}",
                        kind=LedgerTransactionKind.MATURATION,
                        lines=[
                            LedgerLine(
                                accounts[(available_kind, currency, creator_id, None)],
                                moved,
                                currency,
                            ),
                            LedgerLine(
                                accounts[(pending, currency, creator_id, None)], -moved, currency
                            ),
                        ],
                    )
                )
        ledger_post_many(postings=postings, fetch=False)
        total += len(postings)
    return total


# --- which database ------------------------------------------------------------------------


def counts(url: str) -> tuple[int, int]:
    """(commissions, creators) in the database; (0, 0) when it is missing or not migrated."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM payouts_commission), "
                "(SELECT count(*) FROM connect_creatorprofile)"
            ).fetchone()
    except psycopg.Error:
        return 0, 0
    return (int(row[0]), int(row[1])) if row else (0, 0)


def rollups_empty(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT NOT EXISTS (SELECT FROM payouts_collaborationday)").fetchone()
    return bool(row and row[0])


def data_age_days(url: str) -> float | None:
    """Days since the newest order was received (the seed spreads orders up to its own
    moment, so the periods of a later run end with days without sales)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM now() - max(paid_received_at)) / 86400 FROM payouts_order"
        ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def choose_database(args: argparse.Namespace) -> tuple[str, str]:
    """The database to measure, migrated and seeded, with Django set up against it, and a
    line saying where the data comes from."""
    if not args.own_data:
        os.environ["BENCH_DATABASE_URL"] = (
            os.environ.get("BENCH_PIPELINE_DATABASE_URL") or PIPELINE_DATABASE_URL
        )
        pipeline_url = bench_database_url()
        found, creators = counts(pipeline_url)
        if found >= MIN_COMMISSIONS and creators >= MIN_CREATORS:
            print(
                f"database: {database_name(pipeline_url)}, the pipeline benchmark's data "
                f"({found:,} commissions, {creators:,} creators), migrating"
            )
            migrate(pipeline_url)
            setup_django(pipeline_url)
            if rollups_empty(pipeline_url):
                from payouts.rollups import rollups_rebuild

                began = time.perf_counter()
                rollups_rebuild()
                vacuum_analyze(pipeline_url, ROLLUP_TABLES)
                print(f"seed: rollups were empty, rebuilt in {time.perf_counter() - began:.1f}s")
            return pipeline_url, "the pipeline benchmark's data"
        print(
            f"database: {database_name(pipeline_url)} holds {found:,} commissions and "
            f"{creators:,} creators (needs {MIN_COMMISSIONS:,} and {MIN_CREATORS:,}): "
            "not used"
        )

    os.environ["BENCH_DATABASE_URL"] = (
        os.environ.get("BENCH_DASHBOARDS_DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    url = bench_database_url()
    created = ensure_database(url)
    print(f"database: {database_name(url)} ({'created' if created else 'exists'}), migrating")
    migrate(url)
    setup_django(url)
    found, creators = counts(url)
    age = data_age_days(url) if found else None
    if (
        args.reseed
        or (found, creators) != (args.commissions, args.creators)
        or (age is not None and age > STALE_DAYS)
    ):
        if args.reseed:
            why = "--reseed"
        elif age is not None and age > STALE_DAYS:
            why = f"the newest order is {age:.0f} days old, the last days would be empty"
        else:
            why = f"found {found:,} commissions, {creators:,} creators"
        print(f"seed: {why}; seeding {args.commissions:,} commissions, {args.creators:,} creators")
        seconds = seed(url, args.creators, args.commissions, args.top_creator, args.seed)
        return url, f"seeded in {seconds:.0f}s"
    print(f"seed: reusing {found:,} seeded commissions (--reseed to rebuild)")
    return url, "seeded earlier"


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Case:
    key: str
    label: str
    path: str
    client: Any
    headers: dict[str, str] = field(default_factory=dict)
    timing: Timing = field(default_factory=lambda: Timing(""))
    sql_ms: list[float] = field(default_factory=list)
    queries: int = 0  # on the warm request (CaptureQueriesContext)
    warm_sql_ms: float = 0.0
    size_kb: float = 0.0
    # The statements of the warm request: (sql, params, ms), for EXPLAIN.
    statements: list[tuple[str, Any, float]] = field(default_factory=list)

    def get(self) -> Any:
        return self.client.get(self.path, **self.headers)


@dataclass
class Subjects:
    creator_id: int
    creator_handle: str
    creator_user: Any
    creator_commissions: int
    creator_campaigns: int
    brand: Any
    brand_commissions: int
    all_commissions: int
    brand_user: Any
    api_key: str


def find_subjects() -> Subjects:
    """The largest creator and brand by commissions, a member of that brand to log in as,
    and a fresh API key of it (earlier benchmark keys are revoked)."""
    from allauth.account.models import EmailAddress
    from django.db import connection

    from campaigns.api_keys import brand_api_key_create, brand_api_key_revoke
    from campaigns.models import Brand, BrandApiKey, BrandMembership
    from connect.models import CreatorProfile, User

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT creator_id, count(*), count(DISTINCT campaign_id) FROM payouts_commission "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        )
        creator_id, creator_commissions, creator_campaigns = cursor.fetchone()
        cursor.execute(
            "SELECT brand_id, count(*) FROM payouts_commission GROUP BY 1 ORDER BY 2 DESC, 1 "
            "LIMIT 1"
        )
        brand_id, brand_commissions = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM payouts_commission")
        (all_commissions,) = cursor.fetchone()
    profile = CreatorProfile.objects.select_related("user").get(pk=creator_id)
    if not profile.user.is_active:
        User.objects.filter(pk=profile.user_id).update(is_active=True)
        profile.user.is_active = True
    brand = Brand.objects.get(pk=brand_id)
    brand_user, _ = User.objects.update_or_create(
        email=BRAND_EMAIL, defaults={"is_active": True, "is_staff": False}
    )
    BrandMembership.objects.filter(user=brand_user).exclude(brand=brand).delete()
    BrandMembership.objects.get_or_create(brand=brand, user=brand_user, defaults={"role": "owner"})
    # The pages ask for a verified email address (allauth); without one they answer 200 with
    # a "verify your address" page instead.
    for user in (profile.user, brand_user):
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
    for old in BrandApiKey.objects.filter(brand=brand, name=API_KEY_NAME, revoked_at=None):
        brand_api_key_revoke(api_key=old, actor=None)
    _key, full_key = brand_api_key_create(brand=brand, actor=None, name=API_KEY_NAME)
    return Subjects(
        creator_id=creator_id,
        creator_handle=profile.handle,
        creator_user=profile.user,
        creator_commissions=creator_commissions,
        creator_campaigns=creator_campaigns,
        brand=brand,
        brand_commissions=brand_commissions,
        all_commissions=all_commissions,
        brand_user=brand_user,
        api_key=full_key,
    )


def resolves(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?", 1)[0])
    except Resolver404:
        return False
    return True


def build_cases(subjects: Subjects) -> tuple[list[Case], list[str]]:
    """The measured requests, and the pages left out because their URL does not exist."""
    from django.test import Client

    creator = Client(HTTP_HOST="localhost")
    creator.force_login(subjects.creator_user)
    brand = Client(HTTP_HOST="localhost")
    brand.force_login(subjects.brand_user)
    anonymous = Client(HTTP_HOST="localhost")
    key = {"HTTP_AUTHORIZATION": f"Bearer {subjects.api_key}"}
    cases = [
        Case("creator_30", "creator dashboard, 30 days", "/creator/earnings/?days=30", creator),
        Case("creator_365", "creator dashboard, 365 days", "/creator/earnings/?days=365", creator),
        Case("brand_30", "brand dashboard, 30 days", "/brand/dashboard/?days=30", brand),
        Case("brand_365", "brand dashboard, 365 days", "/brand/dashboard/?days=365", brand),
        Case("api_brand", "API commissions, brand key", "/api/v1/commissions", anonymous, key),
        Case("api_creator", "API commissions, as the creator", "/api/v1/commissions", creator),
        Case("trivial", "floor: GET /robots.txt", "/robots.txt", anonymous),
    ]
    missing = sorted({c.path.split("?")[0] for c in cases if not resolves(c.path)})
    return [c for c in cases if resolves(c.path)], missing


def measure(cases: list[Case], recorder: QueryRecorder, repeat: int, warmup: int) -> None:
    """One checked request per case (must answer 200), one captured warm request for the
    statement count and EXPLAIN, then every case timed round-robin."""
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for case in cases:
        response = case.get()
        if response.status_code != 200:
            raise SystemExit(
                f"GET {case.path} ({case.label}) answered {response.status_code}, expected 200"
            )
        if getattr(mail, "outbox", None):
            raise SystemExit(
                f"GET {case.path} ({case.label}) sent an email ({mail.outbox[0].subject!r}): "
                "not the page itself"
            )
        recorder.reset()
        with CaptureQueriesContext(connection) as captured:
            response = case.get()
        if response.status_code != 200:
            raise SystemExit(f"GET {case.path} answered {response.status_code} when warm")
        case.queries = len(captured.captured_queries)
        case.statements = list(recorder.statements)
        case.warm_sql_ms = recorder.sql_ms
        body = b"".join(response) if response.streaming else response.content
        case.size_kb = len(body) / 1024

    by_key = {c.key: c for c in cases}

    def request(case: Case) -> Callable[[], None]:
        def call() -> None:
            recorder.reset()
            response = case.get()
            if response.status_code != 200:
                raise SystemExit(f"GET {case.path} answered {response.status_code}")

        return call

    def collect(key: str) -> None:
        by_key[key].sql_ms.append(recorder.sql_ms)

    timings = time_interleaved(
        {c.key: request(c) for c in cases}, repeat=repeat, warmup=warmup, after_each=collect
    )
    for key, timing in timings.items():
        by_key[key].timing = timing


def statement_label(text: str, width: int = 120) -> str:
    """One line of a statement: its select list elided, its FROM and WHERE kept."""
    flat = re.sub(r"\s+", " ", text).strip()
    flat = re.sub(r'"([A-Za-z_][A-Za-z0-9_]*)"', r"\1", flat)
    flat = re.sub(r"^SELECT (.{0,30}?)[^()]*? FROM ", r"SELECT \1… FROM ", flat, count=1)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def print_plans(case: Case, top: int, trees: bool) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) every SELECT of the case's warm request; print the `top`
    slowest (by their time in the request) with a summary, the plan tree of those over
    SLOW_STATEMENT_MS (or all, with `trees`), and the tables any statement scans whole."""
    print(f"  [{case.key}] {case.label}: {case.queries} statements, {case.warm_sql_ms:.1f} ms")
    selects = [s for s in case.statements if s[0].lstrip().upper().startswith("SELECT")]
    plans = [(text, ms, explain(text, params)) for text, params, ms in selects]
    for text, ms, plan in sorted(plans, key=lambda p: p[1], reverse=True)[:top]:
        print(f"    {ms:6.1f} ms  {statement_label(text)}")
        print(f"               {plan_summary(plan)}")
        if trees or plan["Execution Time"] > SLOW_STATEMENT_MS:
            print_tree(plan["Plan"])
    seq = sorted(
        {
            node["Relation Name"]
            for _text, _ms, plan in plans
            for node in walk(plan["Plan"])
            if node["Node Type"] == "Seq Scan"
        }
    )
    if seq:
        print(f"    sequential scans: {', '.join(seq)}")


def print_profile(case: Case, requests: int, top: int = 12) -> None:
    """Where a slow page's time goes outside SQL: cProfile over `requests` requests, the
    project's own functions by cumulative time, then every function by its own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        case.get()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total_ms = stats.total_tt * 1000 / requests  # type: ignore[attr-defined]
    entries = stats.stats  # type: ignore[attr-defined]
    root = str(BASE_DIR) + "/"
    venv = root + ".venv/"

    def where(func: tuple[str, int, str]) -> str:
        filename, line, name = func
        path = filename.removeprefix(root)
        path = re.sub(r"^.*/site-packages/", "", path)
        return f"{path}:{line} {name}"

    own = [
        (func, row)
        for func, row in entries.items()
        if func[0].startswith(root)
        and not func[0].startswith(venv)
        and "benchmarks/" not in func[0]
    ]
    print(f"  [{case.key}] {case.label}: {total_ms:.1f} ms per request under cProfile")
    print("    project functions by cumulative time (ms per request, calls per request):")
    for func, (_cc, calls, _tt, cumulative, _callers) in sorted(
        own, key=lambda item: item[1][3], reverse=True
    )[:top]:
        print(f"      {cumulative * 1000 / requests:7.1f}  {calls / requests:8.0f}  {where(func)}")
    print("    all functions by own time:")
    for func, (_cc, calls, own_time, _cum, _callers) in sorted(
        entries.items(), key=lambda item: item[1][2], reverse=True
    )[:top]:
        print(f"      {own_time * 1000 / requests:7.1f}  {calls / requests:8.0f}  {where(func)}")


def worst(cases: list[Case], *keys: str) -> str:
    p95s = [c.timing.p95 for c in cases if c.key in keys]
    return f"{max(p95s):.1f}" if p95s else "na"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--creators", type=int, default=MIN_CREATORS)
    parser.add_argument("--commissions", type=int, default=MIN_COMMISSIONS)
    parser.add_argument(
        "--top-creator", type=int, default=150_000, help="commissions of the largest creator"
    )
    parser.add_argument("--reseed", action="store_true", help="rebuild the seeded data")
    parser.add_argument(
        "--own-data", action="store_true", help="never use the pipeline benchmark's database"
    )
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per case")
    parser.add_argument("--seed", type=int, default=2024, help="random seed for the data")
    parser.add_argument("--top", type=int, default=3, help="slowest statements explained")
    parser.add_argument("--plans", action="store_true", help="print every plan as a tree")
    parser.add_argument(
        "--profile",
        type=int,
        default=20,
        metavar="N",
        help="profile N requests of each case over the target (0: none)",
    )
    args = parser.parse_args()

    # WhiteNoise warns that STATIC_ROOT is missing (collectstatic is a deploy step).
    warnings.filterwarnings("ignore", message="No directory at")
    print(load_average())
    _url, origin = choose_database(args)

    from django.db import connection
    from django.template import engines
    from django.test import override_settings

    subjects = find_subjects()
    share = subjects.brand_commissions / subjects.all_commissions
    print(
        f"largest creator: @{subjects.creator_handle} (profile {subjects.creator_id}), "
        f"{subjects.creator_commissions:,} commissions in {subjects.creator_campaigns} "
        f"campaigns; largest brand: {subjects.brand.name} (id {subjects.brand.pk}), "
        f"{subjects.brand_commissions:,} commissions ({share:.0%})"
    )
    recorder = QueryRecorder()
    # Production runs with DEBUG off: no query log, no template debug information. The read
    # API's rate limit still counts every request in Redis, but is raised so that the
    # repeated requests are not refused. Mail stays in memory: a page that sends any is not
    # the page meant (see measure()).
    with (
        override_settings(
            DEBUG=False,
            READ_API_RATE_LIMIT="1000000/m",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        ),
        connection.execute_wrapper(recorder),
    ):
        cases, missing = build_cases(subjects)
        for path in missing:
            print(f"NOT MEASURED: {path} does not resolve (is the dashboards app installed?)")
        print(
            f"measuring: {args.warmup} warm-up + {args.repeat} timed rounds over {len(cases)} "
            f"cases, round-robin; DEBUG=False, template debug="
            f"{engines['django'].engine.debug}; {load_average()}"  # type: ignore[attr-defined]
        )
        started = time.perf_counter()
        measure(cases, recorder, args.repeat, args.warmup)
    print(f"measured in {time.perf_counter() - started:.0f}s; {load_average()}")

    floor = next(c for c in cases if c.key == "trivial")
    print()
    print(f"{subjects.all_commissions:,} commissions ({origin}); times in ms")
    print_table(
        ["case", "sql#", "sql ms", "p50", "p95", "p99", "sql p50", "other p50", "KB", "x floor"],
        [
            (
                c.label,
                c.queries,
                c.warm_sql_ms,
                c.timing.p50,
                c.timing.p95,
                c.timing.p99,
                percentile(c.sql_ms, 50),
                percentile([t - s for t, s in zip(c.timing.samples_ms, c.sql_ms, strict=True)], 50),
                c.size_kb,
                f"{c.timing.p50 / floor.timing.p50:.0f}x",
            )
            for c in cases
        ],
    )
    print(
        "sql# and sql ms: statements of one warm request and their time; sql p50: time inside "
        "statements over the timed\nrequests; other p50: the rest (Python, templates, Redis); "
        "KB: response size; x floor: p50 over the robots.txt p50."
    )

    print()
    print(
        f"Slowest statements of each case, EXPLAIN (ANALYZE, BUFFERS) (trees over "
        f"{SLOW_STATEMENT_MS:.0f} ms):"
    )
    for case in cases:
        if case.key != "trivial":
            print_plans(case, args.top, args.plans)

    slow = [c for c in cases if c.key != "trivial" and c.timing.p95 > TARGET_P95_MS]
    if slow and args.profile:
        print()
        print(f"Profiles of the cases over the target ({args.profile} requests each):")
        with override_settings(DEBUG=False, READ_API_RATE_LIMIT="1000000/m"):
            for case in slow:
                print_profile(case, args.profile)
    print()
    if slow:
        print(
            f"over the target (p95 > {TARGET_P95_MS:.0f} ms): "
            + ", ".join(f"{c.label} ({c.timing.p95:.1f})" for c in slow)
        )
    elif not missing:
        print(f"every case is within the target (p95 <= {TARGET_P95_MS:.0f} ms)")
    print(load_average())
    print(
        result_line(
            commissions=subjects.all_commissions,
            creator_p95_ms=worst(cases, "creator_30", "creator_365"),
            brand_p95_ms=worst(cases, "brand_30", "brand_365"),
            api_p95_ms=worst(cases, "api_brand", "api_creator"),
            trivial_p95_ms=f"{floor.timing.p95:.2f}",
        )
    )


if __name__ == "__main__":
    main()
