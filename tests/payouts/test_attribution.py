"""Attribution (docs/earnings-rules.md): click first, then code; the window's edges; who and what
must have been active at the order's time; the currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from payouts.rules.attribution import (
    ActivePeriod,
    Attributed,
    Attribution,
    CampaignFact,
    ClickFact,
    CollaborationFact,
    Unattributed,
    attribute,
)
from payouts.rules.commission import TermsFact
from payouts.rules.reducer import ORDER_PAID, ORDER_REFUNDED, OrderEventFact

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ORDER_AT = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=30)
SECOND = dt.timedelta(seconds=1)


def terms(*, window_days: int = 30, effective_from: dt.datetime = START) -> TermsFact:
    return TermsFact(
        effective_from=effective_from,
        commission_type="percent",
        commission_percent=Decimal("10"),
        commission_fixed_minor=None,
        hold_days=30,
        attribution_window_days=window_days,
        terms_id=1,
    )


def campaign(
    campaign_id: int = 1,
    *,
    currency: str = "EUR",
    periods: tuple[ActivePeriod, ...] = (ActivePeriod(START),),
    versions: tuple[TermsFact, ...] | None = None,
) -> CampaignFact:
    return CampaignFact(
        campaign_id=campaign_id,
        currency=currency,
        active_periods=periods,
        terms_versions=(terms(),) if versions is None else versions,
    )


def collaboration(
    collaboration_id: int = 10,
    *,
    campaign_id: int = 1,
    tracking_code: str = "Ab3kZ9xQ2m",
    discount_code: str = "OLACREATES",
    removed_at: dt.datetime | None = None,
) -> CollaborationFact:
    return CollaborationFact(
        collaboration_id=collaboration_id,
        campaign_id=campaign_id,
        tracking_code=tracking_code,
        discount_code=discount_code,
        activated_at=START,
        removed_at=removed_at,
    )


def order(
    *, code: str | None = None, click_id: str | None = None, currency: str = "EUR"
) -> OrderEventFact:
    return OrderEventFact(
        event_id="paid-1",
        type=ORDER_PAID,
        occurred_at=ORDER_AT,
        received_at=ORDER_AT,
        amount_minor=10_000,
        currency=currency,
        code=code,
        click_id=click_id,
    )


def click_at(clicked_at: dt.datetime, collaboration_id: int = 10) -> ClickFact:
    return ClickFact(click_id="c-1", collaboration_id=collaboration_id, clicked_at=clicked_at)


def decide(
    paid: OrderEventFact,
    *,
    click: ClickFact | None = None,
    collaborations: tuple[CollaborationFact, ...] = (),
    campaigns: tuple[CampaignFact, ...] | None = None,
) -> Attribution:
    """Attribute with the brand's collaborations; the code matches are computed like the
    caller's case-insensitive query."""
    code = (paid.code or "").strip().casefold()
    matches = [
        c
        for c in collaborations
        if code and code in {(c.tracking_code or "").casefold(), (c.discount_code or "").casefold()}
    ]
    return attribute(
        paid,
        click=click,
        code_matches=matches,
        collaborations={c.collaboration_id: c for c in collaborations},
        campaigns={c.campaign_id: c for c in (campaigns or (campaign(),))},
    )


# --- the click ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clicked_at", "credited"),
    [
        (ORDER_AT - WINDOW + SECOND, True),  # one second inside the window
        (ORDER_AT - WINDOW, True),  # exactly at the boundary: included
        (ORDER_AT - WINDOW - SECOND, False),  # one second outside
        (ORDER_AT, True),  # at the order's very instant: not after it
        (ORDER_AT + SECOND, False),  # one second after the order
    ],
)
def test_click_window_edges(clicked_at: dt.datetime, credited: bool) -> None:
    # given an order whose click happened at `clicked_at`, and no code
    paid = order(click_id="c-1")

    # when attributed
    result = decide(paid, click=click_at(clicked_at), collaborations=(collaboration(),))

    # then only clicks inside the closed window [order − 30 days, order] credit it
    if credited:
        assert result == Attributed(collaboration_id=10, campaign_id=1, via="click", terms=terms())
    else:
        assert isinstance(result, Unattributed)


def test_click_outside_the_window_says_so() -> None:
    # given a click one second too early
    paid = order(click_id="c-1")
    clicked = ORDER_AT - WINDOW - SECOND

    # when attributed
    result = decide(paid, click=click_at(clicked), collaborations=(collaboration(),))

    # then the reason and its message name the window
    assert isinstance(result, Unattributed)
    assert result.reason == "click_outside_window"
    assert result.message == (
        "The click c-1 happened at 2026-01-30T11:59:59+00:00, more than the campaign's 30-day "
        "attribution window before the order (2026-03-01T12:00:00+00:00)."
    )


def test_click_after_the_order_says_so() -> None:
    # given a click a second after the order
    paid = order(click_id="c-1")

    # when attributed
    result = decide(paid, click=click_at(ORDER_AT + SECOND), collaborations=(collaboration(),))

    # then
    assert isinstance(result, Unattributed)
    assert result.reason == "click_after_order"
    assert result.code_failure is None


def test_the_window_comes_from_the_terms_in_force_at_the_order_time() -> None:
    # given a 30-day window replaced by a 7-day one a day before the order
    versions = (terms(), terms(window_days=7, effective_from=ORDER_AT - dt.timedelta(days=1)))
    paid = order(click_id="c-1")
    clicked = ORDER_AT - dt.timedelta(days=8)

    # when attributed
    result = decide(
        paid,
        click=click_at(clicked),
        collaborations=(collaboration(),),
        campaigns=(campaign(versions=versions),),
    )

    # then the 8-day-old click is outside the 7-day window in force
    assert isinstance(result, Unattributed)
    assert result.reason == "click_outside_window"


def test_an_unresolved_click_id_is_unknown() -> None:
    # given a click id that resolves to no stored click
    paid = order(click_id="not-a-click")

    # when attributed
    result = decide(paid, click=None, collaborations=(collaboration(),))

    # then
    assert result == Unattributed(reason="unknown_click", params=(("click_id", "not-a-click"),))


def test_a_click_on_another_brands_collaboration_is_unknown() -> None:
    # given a click whose collaboration is not among this brand's
    paid = order(click_id="c-1")

    # when attributed
    result = decide(paid, click=click_at(ORDER_AT, collaboration_id=99), collaborations=())

    # then
    assert isinstance(result, Unattributed)
    assert result.reason == "unknown_click"


def test_click_wins_over_a_code_of_another_collaboration() -> None:
    # given a valid click for collaboration 10 and the discount code of collaboration 20
    ola = collaboration(10)
    max_ = collaboration(20, tracking_code="Zz9yY8xX7w", discount_code="MAXPOWER")
    paid = order(click_id="c-1", code="MAXPOWER")

    # when attributed
    result = decide(paid, click=click_at(ORDER_AT - SECOND), collaborations=(ola, max_))

    # then the click decides
    assert result == Attributed(collaboration_id=10, campaign_id=1, via="click", terms=terms())


def test_an_invalid_click_falls_back_to_the_code() -> None:
    # given a stale click for collaboration 10 and the discount code of collaboration 20
    ola = collaboration(10)
    max_ = collaboration(20, tracking_code="Zz9yY8xX7w", discount_code="MAXPOWER")
    paid = order(click_id="c-1", code="maxpower")

    # when attributed
    result = decide(paid, click=click_at(ORDER_AT - WINDOW * 2), collaborations=(ola, max_))

    # then the code credits collaboration 20
    assert result == Attributed(collaboration_id=20, campaign_id=1, via="code", terms=terms())


def test_when_click_and_code_both_fail_the_clicks_reason_is_reported() -> None:
    # given a click after the order and an unknown code
    paid = order(click_id="c-1", code="NOPE")

    # when attributed
    result = decide(paid, click=click_at(ORDER_AT + SECOND), collaborations=(collaboration(),))

    # then the click's reason leads and the code's failure follows in the message
    assert isinstance(result, Unattributed)
    assert result.reason == "click_after_order"
    assert result.code_failure == Unattributed(reason="unknown_code", params=(("code", "NOPE"),))
    assert result.message == (
        "The click c-1 happened at 2026-03-01T12:00:01+00:00, after the order "
        "(2026-03-01T12:00:00+00:00). The code NOPE is not a tracking code or discount code "
        "of this brand."
    )


# --- the code -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["OLACREATES", "olacreates", "OlaCreates", " olacreates "])
def test_discount_code_matches_ignoring_case(code: str) -> None:
    # given the discount code typed in any case
    paid = order(code=code)

    # when attributed
    result = decide(paid, collaborations=(collaboration(),))

    # then
    assert result == Attributed(collaboration_id=10, campaign_id=1, via="code", terms=terms())


@pytest.mark.parametrize("code", ["Ab3kZ9xQ2m", "AB3KZ9XQ2M"])
def test_tracking_code_matches_ignoring_case(code: str) -> None:
    # given the tracking code as a code / when attributed
    result = decide(order(code=code), collaborations=(collaboration(),))

    # then
    assert result == Attributed(collaboration_id=10, campaign_id=1, via="code", terms=terms())


def test_an_exact_tracking_code_beats_one_that_only_matches_ignoring_case() -> None:
    # given two tracking codes that fold to the same text
    upper = collaboration(10, tracking_code="ABCDEFGHJK", discount_code="ONE")
    lower = collaboration(20, tracking_code="abcdefghjk", discount_code="TWO")

    # when each is typed exactly
    for typed, expected in (("abcdefghjk", 20), ("ABCDEFGHJK", 10)):
        result = decide(order(code=typed), collaborations=(upper, lower))

        # then the exact one is credited
        assert isinstance(result, Attributed)
        assert result.collaboration_id == expected


def test_the_best_ranked_code_match_that_passes_the_checks_is_credited() -> None:
    # given a removed collaboration whose tracking code is typed exactly, and an active one
    # whose discount code is the same text
    removed = collaboration(10, tracking_code="abcdefghjk", removed_at=ORDER_AT - SECOND)
    active = collaboration(20, tracking_code="Zz9yY8xX7w", discount_code="ABCDEFGHJK")

    # when attributed with both, then with the removed one alone
    both = decide(order(code="abcdefghjk"), collaborations=(removed, active))
    alone = decide(order(code="abcdefghjk"), collaborations=(removed,))

    # then the active one is credited; alone, the removed one's reason is reported
    assert both == Attributed(collaboration_id=20, campaign_id=1, via="code", terms=terms())
    assert isinstance(alone, Unattributed)
    assert alone.reason == "collaboration_not_active"


def test_unknown_code() -> None:
    # given a code that matches nothing / when attributed
    result = decide(order(code="WHOISTHIS"), collaborations=(collaboration(),))

    # then
    assert isinstance(result, Unattributed)
    assert result.reason == "unknown_code"
    assert (
        result.message
        == "The code WHOISTHIS is not a tracking code or discount code of this brand."
    )


def test_no_code_and_no_click() -> None:
    # given an order with neither / when attributed
    result = decide(order(), collaborations=(collaboration(),))

    # then
    assert result == Unattributed(reason="no_code_or_click")
    assert result.message == "The order has neither a click id nor a code."


# --- active at the order's time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("removed_at", "credited"),
    [
        (ORDER_AT + SECOND, True),  # removed after the order
        (ORDER_AT, False),  # removed at the order's instant: no longer active
        (ORDER_AT - SECOND, False),  # removed before the order
    ],
)
def test_removed_collaboration(removed_at: dt.datetime, credited: bool) -> None:
    # given a collaboration removed around the order
    collab = collaboration(removed_at=removed_at)

    # when an order with its code is attributed
    result = decide(order(code="OLACREATES"), collaborations=(collab,))

    # then it is credited only for orders before its removal
    if credited:
        assert isinstance(result, Attributed)
    else:
        assert isinstance(result, Unattributed)
        assert result.reason == "collaboration_not_active"
        assert result.message == (
            "The creator's collaboration 10 was not active when the order happened "
            "(2026-03-01T12:00:00+00:00)."
        )


def test_collaboration_activated_after_the_order() -> None:
    # given a collaboration activated a second after the order
    collab = CollaborationFact(
        collaboration_id=10,
        campaign_id=1,
        tracking_code="Ab3kZ9xQ2m",
        discount_code="OLACREATES",
        activated_at=ORDER_AT + SECOND,
        removed_at=None,
    )

    # when / then
    result = decide(order(code="OLACREATES"), collaborations=(collab,))
    assert isinstance(result, Unattributed)
    assert result.reason == "collaboration_not_active"


@pytest.mark.parametrize(
    ("paused_from", "resumed_at", "credited"),
    [
        (ORDER_AT - SECOND, ORDER_AT + SECOND, False),  # paused around the order
        (ORDER_AT, ORDER_AT + SECOND, False),  # paused at the order's instant
        (ORDER_AT - SECOND, ORDER_AT, True),  # resumed at the order's instant
        (ORDER_AT - WINDOW, ORDER_AT - SECOND, True),  # paused and resumed before it
    ],
)
def test_paused_campaign_interval(
    paused_from: dt.datetime, resumed_at: dt.datetime, credited: bool
) -> None:
    # given a campaign active, paused, then active again
    periods = (ActivePeriod(START, paused_from), ActivePeriod(resumed_at, None))
    camp = campaign(periods=periods)

    # when an order with a code is attributed
    result = decide(order(code="OLACREATES"), collaborations=(collaboration(),), campaigns=(camp,))

    # then only orders in an active period are credited
    if credited:
        assert isinstance(result, Attributed)
    else:
        assert result == Unattributed(
            reason="campaign_not_active",
            params=(("campaign_id", "1"), ("occurred_at", "2026-03-01T12:00:00+00:00")),
        )


def test_ended_campaign() -> None:
    # given a campaign whose only active period ended before the order
    camp = campaign(periods=(ActivePeriod(START, ORDER_AT - SECOND),))

    # when / then
    result = decide(order(code="OLACREATES"), collaborations=(collaboration(),), campaigns=(camp,))
    assert isinstance(result, Unattributed)
    assert result.reason == "campaign_not_active"


def test_no_terms_in_force_at_the_order_time() -> None:
    # given a campaign whose first terms start after the order
    camp = campaign(versions=(terms(effective_from=ORDER_AT + SECOND),))

    # when / then
    result = decide(order(code="OLACREATES"), collaborations=(collaboration(),), campaigns=(camp,))
    assert isinstance(result, Unattributed)
    assert result.reason == "no_terms_in_force"


# --- currency -------------------------------------------------------------------------------


def test_wrong_currency() -> None:
    # given a PLN order for a EUR campaign
    paid = order(code="OLACREATES", currency="PLN")

    # when attributed
    result = decide(paid, collaborations=(collaboration(),))

    # then it is unattributed with a clear message
    assert isinstance(result, Unattributed)
    assert result.reason == "wrong_currency"
    assert result.message == (
        "The order is in PLN but campaign 1 pays in EUR; orders in another currency are not "
        "credited."
    )


def test_wrong_currency_by_click() -> None:
    # given a valid click on a EUR campaign and a PLN order
    paid = order(click_id="c-1", currency="PLN")

    # when / then
    result = decide(paid, click=click_at(ORDER_AT - SECOND), collaborations=(collaboration(),))
    assert isinstance(result, Unattributed)
    assert result.reason == "wrong_currency"


def test_only_an_order_paid_event_decides_attribution() -> None:
    # given a refund event
    refund = OrderEventFact(
        event_id="r-1",
        type=ORDER_REFUNDED,
        occurred_at=ORDER_AT,
        received_at=ORDER_AT,
        amount_minor=100,
        currency="EUR",
        code="OLACREATES",
    )

    # when / then
    with pytest.raises(ValueError, match=r"order\.paid"):
        attribute(refund, click=None, code_matches=(), collaborations={}, campaigns={})
