"""The creator's commissions: the list with its filters and keyset pages, and the CSV export
streamed from a server-side cursor; only ever the creator's own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connect.money import format_money, from_minor
from dashboards import views
from dashboards.selectors import CommissionFilters, creator_commission_rows
from payouts.models import Commission
from tests.dashboards.scenario import Marketplace, csv_rows, signed_in

pytestmark = pytest.mark.django_db


def refs(response: Any) -> list[str]:
    return [c.order_ref for c in response.context["page"].commissions]


def expected_csv(commissions: Any) -> list[list[str]]:
    rows = [
        [
            "order_id",
            "campaign",
            "currency",
            "order_amount",
            "commission",
            "status",
            "ordered_on",
            "payable_on",
        ]
    ]
    for c in commissions.select_related("campaign").order_by("-updated_at", "-id"):
        rows.append(
            [
                c.order_ref,
                c.campaign.title,
                c.currency,
                from_minor(c.net_amount_minor, c.currency),
                from_minor(c.amount_minor, c.currency),
                c.status,
                c.paid_received_at.astimezone(dt.UTC).date().isoformat(),
                c.payable_at.astimezone(dt.UTC).date().isoformat() if c.status == "pending" else "",
            ]
        )
    return rows


def test_the_list_shows_each_of_the_creators_commissions_with_its_amounts_and_status(
    market: Marketplace,
) -> None:
    # when
    response = signed_in(market.ola.user).get("/creator/earnings/commissions/")

    # then
    assert response.status_code == 200
    own = Commission.objects.filter(creator=market.ola).order_by("-updated_at", "-id")
    assert refs(response) == [c.order_ref for c in own]
    assert sorted(refs(response)) == ["C-1", "C-2", "S-1", "S-2", "U-1", "U-2"]
    html = response.content.decode()
    for commission in own:
        row = html[html.index(f'data-commission="{commission.pk}"') :]
        row = row[: row.index("</tr>")]
        assert commission.order_ref in row
        assert commission.campaign.title in row
        assert format_money(commission.net_amount_minor, commission.currency) in row
        assert format_money(commission.amount_minor, commission.currency) in row
        assert commission.get_status_display() in row


def test_filters_narrow_the_list_by_campaign_status_and_order_day(market: Marketplace) -> None:
    # given
    client = signed_in(market.ola.user)
    yesterday = (market.today - dt.timedelta(days=1)).isoformat()

    # when
    approved = client.get("/creator/earnings/commissions/?status=approved")
    coats = client.get(f"/creator/earnings/commissions/?campaign={market.coats.pk}")
    recent = client.get(
        f"/creator/earnings/commissions/?received_from={yesterday}&received_to={market.today}"
    )
    pending_spring = client.get(
        f"/creator/earnings/commissions/?campaign={market.spring.pk}&status=pending"
    )

    # then
    assert sorted(refs(approved)) == ["U-1", "U-2"]
    assert sorted(refs(coats)) == ["C-1", "C-2"]
    assert sorted(refs(recent)) == ["C-1", "C-2", "S-2"]
    assert sorted(refs(pending_spring)) == ["S-1", "S-2"]


def test_pages_walk_forward_and_back_without_skipping_or_repeating(
    market: Marketplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    monkeypatch.setattr(views, "COMMISSION_PAGE_SIZE", 4)
    client = signed_in(market.ola.user)
    everything = list(
        Commission.objects.filter(creator=market.ola)
        .order_by("-updated_at", "-id")
        .values_list("order_ref", flat=True)
    )

    # when
    first = client.get("/creator/earnings/commissions/")
    second = client.get(f"/creator/earnings/commissions/{first.context['next_url']}")
    back = client.get(f"/creator/earnings/commissions/{second.context['previous_url']}")

    # then
    assert refs(first) == everything[:4]
    assert first.context["previous_url"] is None
    assert refs(second) == everything[4:]
    assert second.context["next_url"] is None
    assert refs(back) == everything[:4]


def test_a_damaged_cursor_starts_from_the_newest(market: Marketplace) -> None:
    # when
    response = signed_in(market.ola.user).get("/creator/earnings/commissions/?cursor=%%%")

    # then
    assert response.status_code == 200
    assert len(refs(response)) == 6


def test_the_csv_streams_every_commission_with_decimal_amounts(market: Marketplace) -> None:
    # when
    response = signed_in(market.ola.user).get("/creator/earnings/commissions.csv")

    # then
    assert response.status_code == 200
    assert 'filename="commissions-ola_creates.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows == expected_csv(Commission.objects.filter(creator=market.ola))
    three_days_ago = (market.today - dt.timedelta(days=3)).isoformat()
    assert ["U-1", "Sun care", "EUR", "300.00", "60.00", "approved", three_days_ago, ""] in rows


def test_the_csv_applies_the_filters(market: Marketplace) -> None:
    # when
    response = signed_in(market.ola.user).get(
        f"/creator/earnings/commissions.csv?campaign={market.spring.pk}&status=pending"
    )

    # then
    assert csv_rows(response) == expected_csv(
        Commission.objects.filter(creator=market.ola, campaign=market.spring, status="pending")
    )
    assert (
        len(
            csv_rows(
                signed_in(market.ola.user).get("/creator/earnings/commissions.csv?status=approved")
            )
        )
        == 3
    )


def test_the_rows_come_through_a_cursor_in_chunks_in_the_same_order(market: Marketplace) -> None:
    # when: chunks smaller than the result
    rows = list(creator_commission_rows(market.ola, CommissionFilters(), chunk_size=2))

    # then
    assert [row[0] for row in rows] == list(
        Commission.objects.filter(creator=market.ola)
        .order_by("-updated_at", "-id")
        .values_list("order_ref", flat=True)
    )


def test_a_creator_sees_neither_the_commissions_nor_the_campaigns_of_another(
    market: Marketplace,
) -> None:
    # given
    ben = signed_in(market.ben.user)

    # when
    page = ben.get("/creator/earnings/commissions/")
    export = ben.get("/creator/earnings/commissions.csv")
    foreign_campaign = ben.get(f"/creator/earnings/commissions/?campaign={market.sun.pk}")
    foreign_csv = ben.get(f"/creator/earnings/commissions.csv?campaign={market.coats.pk}")
    not_a_number = ben.get("/creator/earnings/commissions/?campaign=abc")

    # then
    assert sorted(refs(page)) == ["G-1", "G-2", "S-3"]
    assert sorted(row[0] for row in csv_rows(export)[1:]) == ["G-1", "G-2", "S-3"]
    assert "Sun care" not in page.content.decode()
    assert (foreign_campaign.status_code, foreign_csv.status_code) == (404, 404)
    assert not_a_number.status_code == 404


def test_the_list_costs_the_same_queries_on_every_page(
    market: Marketplace, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    # given
    monkeypatch.setattr(views, "COMMISSION_PAGE_SIZE", 2)
    client = signed_in(market.ola.user)
    first = client.get("/creator/earnings/commissions/")

    # then
    with django_assert_max_num_queries(10):
        client.get(f"/creator/earnings/commissions/{first.context['next_url']}")
