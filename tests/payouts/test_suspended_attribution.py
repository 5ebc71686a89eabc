"""Orders placed while the creator was suspended are credited to no one (the rule, the
pipeline end to end, and the recompute agreeing after the creator is reinstated)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from campaigns.clicks import ClickRecord, click_partitions_ensure, clicks_store, new_click_id
from campaigns.models import Collaboration
from connect.models import CreatorProfile, CreatorSuspension, User
from connect.services import creator_suspend, creator_unsuspend
from payouts.earnings import events_load, facts_load
from payouts.models import Commission, Order, OrderEvent
from payouts.rules import ActivePeriod, CampaignFact, CollaborationFact, TermsFact, attribute
from payouts.rules.attribution import CREATOR_SUSPENDED, Attributed, stored_reason_message
from payouts.rules.reducer import ORDER_PAID, OrderEventFact
from tests.campaigns.factories import CampaignFactory, CollaborationFactory
from tests.connect.factories import UserFactory
from tests.payouts.pipeline import balances, event, owed, send, yesterday

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SUSPENDED = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
REINSTATED = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------
# The rule, on facts


def _terms() -> TermsFact:
    return TermsFact(
        terms_id=1,
        effective_from=START,
        commission_type="percent",
        commission_percent=Decimal("10"),
        commission_fixed_minor=None,
        hold_days=30,
        attribution_window_days=30,
    )


def _collaboration(
    collaboration_id: int, *, suspensions: tuple[ActivePeriod, ...] = ()
) -> CollaborationFact:
    return CollaborationFact(
        collaboration_id=collaboration_id,
        campaign_id=1,
        tracking_code=f"Track{collaboration_id}",
        discount_code="SPRING",
        activated_at=START,
        removed_at=None,
        creator_suspensions=suspensions,
    )


def _attribute(when: dt.datetime, *collaborations: CollaborationFact) -> object:
    paid = OrderEventFact(
        event_id="paid-1",
        type=ORDER_PAID,
        occurred_at=when,
        received_at=when,
        amount_minor=10000,
        currency="EUR",
        code="spring",
        click_id=None,
    )
    campaign = CampaignFact(
        campaign_id=1,
        currency="EUR",
        active_periods=(ActivePeriod(start=START),),
        terms_versions=(_terms(),),
    )
    return attribute(
        paid,
        click=None,
        code_matches=list(collaborations),
        collaborations={c.collaboration_id: c for c in collaborations},
        campaigns={1: campaign},
    )


@pytest.mark.parametrize(
    ("when", "credited"),
    [
        pytest.param(SUSPENDED - dt.timedelta(microseconds=1), True, id="just-before"),
        pytest.param(SUSPENDED, False, id="at-the-start"),
        pytest.param(REINSTATED - dt.timedelta(microseconds=1), False, id="just-before-the-end"),
        pytest.param(REINSTATED, True, id="at-the-end"),
    ],
)
def test_a_suspension_period_includes_its_start_and_excludes_its_end(
    when: dt.datetime, credited: bool
) -> None:
    # given
    collaboration = _collaboration(7, suspensions=(ActivePeriod(start=SUSPENDED, end=REINSTATED),))

    # when
    result = _attribute(when, collaboration)

    # then
    assert isinstance(result, Attributed) is credited
    if not credited:
        assert result.reason == CREATOR_SUSPENDED  # type: ignore[attr-defined]
        assert result.params == (  # type: ignore[attr-defined]
            ("collaboration_id", "7"),
            ("occurred_at", when.isoformat()),
        )


def test_an_open_suspension_covers_every_later_order() -> None:
    # given
    collaboration = _collaboration(7, suspensions=(ActivePeriod(start=SUSPENDED),))

    # when
    result = _attribute(SUSPENDED + dt.timedelta(days=400), collaboration)

    # then
    assert not isinstance(result, Attributed)
    assert result.reason == CREATOR_SUSPENDED  # type: ignore[attr-defined]


def test_the_same_code_of_a_creator_who_is_not_suspended_is_still_credited() -> None:
    # given: two collaborations share the discount code; the first one's creator is suspended
    suspended = _collaboration(3, suspensions=(ActivePeriod(start=SUSPENDED),))
    other = _collaboration(9)

    # when
    result = _attribute(SUSPENDED + dt.timedelta(hours=1), suspended, other)

    # then
    assert isinstance(result, Attributed)
    assert result.collaboration_id == 9


def test_the_stored_reason_reads_as_a_sentence() -> None:
    # when
    with translation.override("en"):
        message = stored_reason_message(
            CREATOR_SUSPENDED,
            {"collaboration_id": "7", "occurred_at": "2026-03-01T12:00:00+00:00"},
        )

    # then
    assert message == (
        "The creator of collaboration 7 was suspended at the time of the order "
        "(2026-03-01T12:00:00+00:00)."
    )


# ---------------------------------------------------------------------------------------
# The pipeline, on the real database


@pytest.fixture
def staff() -> User:
    return UserFactory(verified=True, is_staff=True)


def _open_period(creator: CreatorProfile) -> CreatorSuspension:
    return CreatorSuspension.objects.get(creator=creator, ended_at__isnull=True)


def _order(order_id: str) -> Order:
    return Order.objects.get(order_id=order_id)


def _click(collab: Collaboration, at: dt.datetime) -> str:
    click_partitions_ensure(days_back=2, days_ahead=2)
    click_id = new_click_id(int(at.timestamp() * 1000))
    clicks_store([ClickRecord(click_id, collab.pk, "h", "ua", "")])
    return str(click_id)


def _verify() -> None:
    """`recompute_earnings --verify` exits 1 on any difference; returning is agreement."""
    call_command("recompute_earnings", "--verify")


@pytest.mark.django_db
def test_orders_placed_while_the_creator_is_suspended_earn_nothing_and_the_rest_earn(
    staff: User,
) -> None:
    # given: an order before the suspension, which earns 10 % of 100.00
    collab = CollaborationFactory()
    brand, creator, code = collab.brand, collab.creator, collab.discount_code
    send(brand, event("before", order_id="BEFORE", code=code, occurred_at=yesterday()))
    assert balances(creator) == {"pending": 1000, "available": 0}

    # when: staff suspend the creator, and orders arrive
    creator_suspend(creator=creator, actor=staff, reason="Self-purchases.")
    started = _open_period(creator).started_at
    click = _click(collab, started - dt.timedelta(minutes=5))
    send(
        brand,
        event("code-during", order_id="CODE-DURING", code=code, occurred_at=started),
        event(
            "click-during",
            order_id="CLICK-DURING",
            click_id=click,
            occurred_at=started + dt.timedelta(seconds=1),
        ),
        # Placed before the suspension, sent during it: it still earns.
        event(
            "late-report",
            order_id="LATE-REPORT",
            code=code,
            occurred_at=started - dt.timedelta(seconds=1),
        ),
    )

    # then
    for order_id, params in [
        ("CODE-DURING", {"collaboration_id": str(collab.pk), "occurred_at": started.isoformat()}),
        (
            "CLICK-DURING",
            {
                "collaboration_id": str(collab.pk),
                "occurred_at": (started + dt.timedelta(seconds=1)).isoformat(),
            },
        ),
    ]:
        order = _order(order_id)
        assert order.unattributed_reason == "creator_suspended"
        assert order.unattributed_params == params
        assert order.collaboration_id is None
        assert order.commission_minor == 0
    assert dict(
        OrderEvent.objects.filter(event_id__in=["code-during", "click-during"]).values_list(
            "event_id", "outcome_reason"
        )
    ) == {
        "code-during": (
            f"The creator of collaboration {collab.pk} was suspended at the time of the order "
            f"({started.isoformat()})."
        ),
        "click-during": (
            f"The creator of collaboration {collab.pk} was suspended at the time of the order "
            f"({(started + dt.timedelta(seconds=1)).isoformat()})."
        ),
    }
    assert _order("LATE-REPORT").commission_minor == 1000
    assert _order("BEFORE").commission_minor == 1000
    assert balances(creator) == {"pending": 2000, "available": 0}
    assert owed(brand) == 2000
    _verify()


@pytest.mark.django_db
def test_after_reinstatement_new_orders_earn_and_suspended_ones_stay_unpaid(
    staff: User,
) -> None:
    # given: a creator suspended, then reinstated
    collab = CollaborationFactory()
    brand, creator, code = collab.brand, collab.creator, collab.discount_code
    creator_suspend(creator=creator, actor=staff, reason="Checking traffic.")
    creator_unsuspend(creator=creator, actor=staff, reason="Traffic is genuine.")
    period = CreatorSuspension.objects.get(creator=creator)
    assert period.ended_at is not None

    # when: an order from inside the period arrives after reinstatement, and new orders
    send(
        brand,
        event(
            "inside",
            order_id="INSIDE",
            code=code,
            occurred_at=period.started_at + (period.ended_at - period.started_at) / 2,
        ),
        event("at-the-end", order_id="AT-END", code=code, occurred_at=period.ended_at),
        event(
            "after",
            order_id="AFTER",
            code=code,
            occurred_at=period.ended_at + dt.timedelta(seconds=1),
        ),
    )

    # then
    assert _order("INSIDE").unattributed_reason == "creator_suspended"
    assert _order("INSIDE").commission_minor == 0
    assert _order("AT-END").commission_minor == 1000
    assert _order("AFTER").commission_minor == 1000
    assert Commission.objects.filter(collaboration_id=collab.pk).count() == 2
    assert balances(creator) == {"pending": 2000, "available": 0}
    _verify()


@pytest.mark.django_db
def test_a_suspension_does_not_touch_settled_orders_and_later_events_still_apply(
    staff: User,
) -> None:
    # given: an order settled before the suspension
    collab = CollaborationFactory()
    brand, creator = collab.brand, collab.creator
    send(brand, event("p1", order_id="O-1", code=collab.discount_code, occurred_at=yesterday()))
    commission = Commission.objects.get()
    assert commission.amount_minor == 1000

    # when: the creator is suspended, and a partial refund of that order arrives
    creator_suspend(creator=creator, actor=staff, reason="Fraud review.")
    send(brand, event("r1", "order.refunded", order_id="O-1", amount="40.00"))

    # then: the order stays the creator's; the refund lowers it as usual
    commission.refresh_from_db()
    assert commission.amount_minor == 600
    assert _order("O-1").collaboration_id == collab.pk
    assert balances(creator) == {"pending": 600, "available": 0}
    _verify()

    # and reinstating changes nothing that was already decided
    creator_unsuspend(creator=creator, actor=staff, reason="Cleared.")
    _verify()
    assert balances(creator) == {"pending": 600, "available": 0}


@pytest.mark.django_db
def test_suspension_periods_are_loaded_in_one_query_for_a_whole_batch(staff: User) -> None:
    # given: orders of several creators, some suspended, in one campaign
    campaign = CampaignFactory()
    collabs = [CollaborationFactory(campaign=campaign) for _ in range(4)]
    for collab in collabs[:3]:
        creator_suspend(creator=collab.creator, actor=staff, reason="Review.")
        creator_unsuspend(creator=collab.creator, actor=staff, reason="Done.")
    creator_suspend(creator=collabs[0].creator, actor=staff, reason="Again.")
    now = timezone.now()
    send(
        campaign.brand,
        *[
            event(f"p{i}", order_id=f"O-{i}", code=c.discount_code, occurred_at=now)
            for i, c in enumerate(collabs)
        ],
        process=False,
    )
    one = events_load([(campaign.brand_id, "O-0")])
    every = events_load([(campaign.brand_id, f"O-{i}") for i in range(4)])

    # when
    with CaptureQueriesContext(connection) as for_one:
        facts_load(one)
    with CaptureQueriesContext(connection) as for_every:
        facts, _states = facts_load(every)

    # then: as many queries for four creators as for one, and each creator's periods
    assert len(for_every) == len(for_one)
    suspension_queries = [
        q for q in for_every.captured_queries if "connect_creatorsuspension" in q["sql"]
    ]
    assert len(suspension_queries) == 1
    periods = {
        row.creator_id: len(row.fact.creator_suspensions) for row in facts.collaborations.values()
    }
    assert periods == {
        collabs[0].creator_id: 2,
        collabs[1].creator_id: 1,
        collabs[2].creator_id: 1,
        collabs[3].creator_id: 0,
    }
