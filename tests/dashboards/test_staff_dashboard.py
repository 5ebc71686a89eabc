"""The staff overview: platform money equals the commissions and the ledger, the payout
queue the payouts, failures the refused events and failed payouts, and the lags what waits
in PostgreSQL and in the click buffer. Staff only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.clicks import ClickRecord, click_buffer_claim, click_buffer_push, new_click_id
from connect.money import format_money
from dashboards.selectors import failed_events
from payouts.models import (
    Commission,
    LedgerAccountKind,
    Payout,
    ReconciliationDifference,
    ReconciliationKind,
    RejectedOrderEvent,
)
from payouts.processing import order_events_process_all
from tests.connect.factories import UserFactory
from tests.dashboards.expected import figure, platform_ledger, section
from tests.dashboards.scenario import HOUR, Marketplace, ingest, order_paid, signed_in, store_clicks
from tests.payouts.pipeline import event
from tests.payouts.workers import PrivateRedis

pytestmark = pytest.mark.django_db


def test_platform_money_equals_the_commissions_and_the_ledgers_payout_accounts(
    market: Marketplace,
) -> None:
    # given
    since = market.today - dt.timedelta(days=29)
    commissions = Commission.objects.filter(paid_received_at__isnull=False).annotate(
        day=TruncDate("paid_received_at", tzinfo=dt.UTC)
    )
    all_time = {
        row["currency"]: (row["revenue"], row["commission"])
        for row in commissions.values("currency").annotate(
            revenue=Sum("net_amount_minor"), commission=Sum("amount_minor")
        )
    }
    recent = {
        row["currency"]: (row["revenue"], row["commission"])
        for row in commissions.filter(day__gte=since)
        .values("currency")
        .annotate(revenue=Sum("net_amount_minor"), commission=Sum("amount_minor"))
    }
    paid_out = platform_ledger(LedgerAccountKind.CREATOR_PAID_OUT)
    in_flight = platform_ledger(LedgerAccountKind.CREATOR_IN_FLIGHT)

    # when
    response = signed_in(market.staff).get("/staff/")

    # then
    assert response.status_code == 200
    shown = {row.currency: row for row in response.context["platform"].currencies}
    assert sorted(shown) == sorted(all_time) == ["EUR", "PLN"]
    html = response.content.decode()
    for currency, row in shown.items():
        assert (row.revenue_minor, row.commission_minor) == all_time[currency]
        assert (row.recent_revenue_minor, row.recent_commission_minor) == recent[currency]
        assert row.paid_out_minor == paid_out.get(currency, 0)
        assert row.in_flight_minor == in_flight.get(currency, 0)
        tr = section(html, f'<tr data-currency="{currency}"', "</tr>")
        assert figure(tr, "revenue") == format_money(row.revenue_minor, currency)
        assert figure(tr, "commission") == format_money(row.commission_minor, currency)
        assert figure(tr, "paid_out") == format_money(row.paid_out_minor, currency)
        assert figure(tr, "in_flight") == format_money(row.in_flight_minor, currency)
    # In words: 50.00 EUR paid out by bank, 10.00 EUR awaiting approval.
    assert (shown["EUR"].paid_out_minor, shown["EUR"].in_flight_minor) == (5000, 1000)


def test_the_payout_queue_counts_and_sums_payouts_by_status(market: Marketplace) -> None:
    # when
    response = signed_in(market.staff).get("/staff/")

    # then
    expected = {
        (row["status"], row["currency"]): (row["n"], row["total"])
        for row in Payout.objects.values("status", "currency").annotate(
            n=Count("id"), total=Sum("amount_minor")
        )
    }
    platform = response.context["platform"]
    assert {(r.status, r.currency): (r.count, r.amount_minor) for r in platform.statuses} == (
        expected
    )
    assert expected == {
        ("paid", "EUR"): (1, 5000),
        ("failed", "EUR"): (1, 2000),
        ("requested", "EUR"): (1, 1000),
    }
    assert platform.open_payouts == 1
    html = response.content.decode()
    assert figure(html, "open_payouts") == "1"
    requested = section(html, 'data-status="requested-EUR"', "</tr>")
    assert 'href="/staff/payouts/?status=requested"' in requested
    assert figure(requested, "amount") == "€10.00"


def test_failures_show_refused_events_by_day_and_the_latest_failed_payouts(
    market: Marketplace,
) -> None:
    # given
    refused = RejectedOrderEvent.objects.annotate(day=TruncDate("received_at", tzinfo=dt.UTC))
    today = refused.filter(day=market.today).count()
    week = refused.filter(day__gte=market.today - dt.timedelta(days=6)).count()

    # when
    response = signed_in(market.staff).get("/staff/")

    # then
    failed = response.context["failed_events"]
    assert (failed.today, failed.week) == (today, week) == (1, 2)
    assert [(b.name, b.week, b.today) for b in failed.brands] == [
        ("Moda Wisła", 1, 0),
        ("Sol Cosmética", 1, 1),
    ]
    html = response.content.decode()
    assert (figure(html, "refused_today"), figure(html, "refused_week")) == ("1", "2")
    (payout,) = response.context["failed_payouts"]
    assert payout == Payout.objects.get(status="failed")
    assert "The account is closed." in html
    assert f'href="/staff/payouts/{payout.pk}/"' in html


def test_refused_events_count_only_the_last_seven_days_read_by_day_and_kind(
    market: Marketplace,
) -> None:
    # given: a refused event eight days ago, out of the week
    ingest(market.sol, market.now - dt.timedelta(days=8), event("old-bad", amount="x"))
    refused = RejectedOrderEvent.objects.annotate(day=TruncDate("received_at", tzinfo=dt.UTC))
    week = refused.filter(day__gte=market.today - dt.timedelta(days=6)).count()

    # when
    with CaptureQueriesContext(connection) as read:
        failed = failed_events(today=market.today)

    # then
    assert refused.count() == 3
    assert failed.week == week == 2
    # The read is a day range and a kind: what the (day, kind) index of the brands' daily
    # event counters serves (asked of the planner without sequential scans, as the table
    # is tiny here).
    (statement,) = read.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "rollup_brand_event_kind_idx" in plan
    assert "Index Cond: ((day >= " in plan


def test_open_reconciliation_differences_are_counted(market: Marketplace) -> None:
    # given: one open difference and one resolved
    ReconciliationDifference.objects.create(
        kind=ReconciliationKind.UNKNOWN_TRANSFER, stripe_transfer_id="tr_1", currency="EUR"
    )
    ReconciliationDifference.objects.create(
        kind=ReconciliationKind.UNKNOWN_TRANSFER,
        stripe_transfer_id="tr_2",
        currency="EUR",
        resolved_at=timezone.now(),
    )

    # when
    response = signed_in(market.staff).get("/staff/")

    # then
    assert response.context["reconciliation_open"] == 1
    assert figure(response.content.decode(), "reconciliation_open") == "1 open difference"


def test_the_lags_show_the_oldest_waiting_event_and_the_click_buffer(
    market: Marketplace,
) -> None:
    # given: an event nobody processed yet, three clicks in the buffer, two claimed by a
    # flush in progress
    waiting_since = timezone.now() - dt.timedelta(minutes=7)
    ingest(market.moda, waiting_since, event("late", order_id="L-1", amount="5.00"))
    for _n in range(3):
        click_buffer_push(
            ClickRecord(
                click_id=new_click_id(),
                collaboration_id=market.ola_spring.pk,
                ip_hash="0" * 64,
                user_agent="Mozilla/5.0",
                referrer="",
            )
        )
    click_buffer_claim(count=2)

    # when
    response = signed_in(market.staff).get("/staff/")

    # then
    lag = response.context["worker_lag"]
    assert lag.oldest_received_at == waiting_since
    assert 7 * 60 <= lag.seconds < 8 * 60
    clicks = response.context["click_lag"]
    assert (clicks.available, clicks.pending, clicks.processing, clicks.flushes) == (
        True,
        1,
        2,
        1,
    )
    assert clicks.oldest_claim_at is not None
    html = response.content.decode()
    assert figure(html, "worker_lag") == "7\xa0minutes behind"
    assert figure(html, "clicks_pending") == "1 click waiting"
    assert "2 held by 1 flush in progress" in html


def test_an_unreachable_click_buffer_is_said_plainly(market: Marketplace, settings: Any) -> None:
    # given: a click buffer on a port where nothing listens
    settings.CLICK_BUFFER_REDIS_URL = "redis://127.0.0.1:1/0"

    # when
    response = signed_in(market.staff).get("/staff/")

    # then
    assert response.status_code == 200
    assert response.context["click_lag"].available is False
    assert "The click buffer's Redis does not answer." in response.content.decode()


def test_a_click_buffer_that_keeps_nothing_on_disk_is_flagged(market: Marketplace) -> None:
    # given: the suite's Redis, which runs without an append-only file

    # when
    response = signed_in(market.staff).get("/staff/")

    # then
    assert response.context["click_lag"].on_disk is False
    assert figure(response.content.decode(), "clicks_on_disk") == (
        "This Redis keeps nothing on disk: a restart would lose the clicks waiting in it. "
        "Turn on its append-only file."
    )


def test_a_click_buffer_with_an_append_only_file_says_so(
    market: Marketplace, settings: Any, tmp_path: Path
) -> None:
    # given: the click buffer on a Redis of its own, deployed as the README says
    server = PrivateRedis(directory=tmp_path)
    server.start()
    settings.CLICK_BUFFER_REDIS_URL = server.url
    try:
        # when
        response = signed_in(market.staff).get("/staff/")
    finally:
        server.stop()

    # then
    assert response.context["click_lag"].on_disk is True
    assert figure(response.content.decode(), "clicks_on_disk") == (
        "Waiting clicks are kept on disk (append-only file)."
    )


def test_only_staff_see_the_overview() -> None:
    # when
    anonymous = Client().get("/staff/")
    member = signed_in(UserFactory(verified=True)).get("/staff/")

    # then
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert member.status_code == 403


def test_the_overview_costs_the_same_queries_however_big_the_platform(
    market: Marketplace, django_assert_max_num_queries: Any
) -> None:
    # given
    client = signed_in(market.staff)
    with CaptureQueriesContext(connection) as before:
        client.get("/staff/")

    # when: more orders, clicks and refusals over many days
    for day in range(1, 15):
        received = market.now - dt.timedelta(days=day)
        store_clicks(market.ben_spring, 2, received - 2 * HOUR)
        ingest(
            market.moda,
            received,
            order_paid(f"grow-{day}", f"GR-{day}", "25.00", received - HOUR, code="BENSPRING"),
            event(f"grow-bad-{day}", order_id="Z", amount="0"),
        )
    order_events_process_all()

    # then
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as after:
        response = client.get("/staff/")
    assert response.status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)
    for query in after.captured_queries:
        sql = query["sql"]
        assert "payouts_commission" not in sql
        assert 'payouts_order"' not in sql and "payouts_order " not in sql
        if "payouts_orderevent" in sql:
            assert 'processed_at" IS NULL' in sql and "LIMIT 1" in sql
