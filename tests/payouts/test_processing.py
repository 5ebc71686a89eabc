"""Processing end to end on the real database: events in, commissions and ledger out."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from campaigns.clicks import ClickRecord, click_partitions_ensure, clicks_store, new_click_id
from campaigns.models import Campaign, CampaignStatus, Collaboration, CollaborationStatus
from campaigns.services.campaigns import TermsInput, campaign_current_terms, campaign_update
from config.celery import app as celery_app
from payouts.ingest import order_events_ingest
from payouts.models import (
    Commission,
    CommissionStatus,
    DuplicateOrderEvent,
    LedgerTransaction,
    Order,
    OrderEvent,
)
from payouts.processing import (
    campaign_budget_settle,
    commissions_mature,
    order_events_process,
    order_events_process_all,
    orders_settle,
)
from payouts.recompute import earnings_recompute
from payouts.selectors import ledger_checks
from tests.campaigns.factories import BrandMembershipFactory, CampaignFactory, CollaborationFactory
from tests.campaigns.test_services import _input_of
from tests.payouts.pipeline import balances, event, owed, send, yesterday

pytestmark = pytest.mark.django_db


def ledger_ok() -> None:
    failures = [f for check in ledger_checks() for f in check.failures]
    assert failures == []
    assert earnings_recompute().differences == []


def outcomes() -> dict[str, str | None]:
    return dict(OrderEvent.objects.values_list("event_id", "outcome"))


def test_a_paid_order_earns_its_commission_and_a_partial_refund_lowers_it() -> None:
    collab = CollaborationFactory(campaign=CampaignFactory(percent=Decimal("12.5")))
    brand = collab.brand

    send(brand, event("p1", amount="129.99", code=collab.discount_code.lower()))

    commission = Commission.objects.get()
    assert commission.amount_minor == 1625  # 1624.875 rounded half-up
    assert commission.status == CommissionStatus.PENDING
    assert balances(collab.creator) == {"pending": 1625, "available": 0}
    assert owed(brand) == 1625

    send(brand, event("r1", "order.refunded", amount="29.99"))

    commission.refresh_from_db()
    assert commission.amount_minor == 1250
    assert commission.net_amount_minor == 10000
    assert balances(collab.creator) == {"pending": 1250, "available": 0}
    assert list(
        LedgerTransaction.objects.filter(commission_id=commission.pk)
        .order_by("id")
        .values_list("kind", flat=True)
    ) == ["commission", "commission_adjustment"]
    assert outcomes() == {"p1": "applied", "r1": "applied"}
    ledger_ok()


def test_a_cancellation_voids_the_commission_and_returns_the_money() -> None:
    collab = CollaborationFactory()
    send(collab.brand, event("p1", code=collab.discount_code))
    send(collab.brand, event("c1", "order.cancelled"))

    commission = Commission.objects.get()
    assert (commission.amount_minor, commission.status) == (0, CommissionStatus.VOID)
    assert balances(collab.creator) == {"pending": 0, "available": 0}
    assert owed(collab.brand) == 0
    ledger_ok()


def test_a_refund_before_its_paid_waits_and_then_counts() -> None:
    collab = CollaborationFactory()
    send(collab.brand, event("r1", "order.refunded", amount="25.00"))

    order = Order.objects.get()
    assert order.awaiting_paid and not Commission.objects.exists()
    assert outcomes() == {"r1": "awaiting_paid"}
    assert OrderEvent.objects.get().processed_at is not None

    send(collab.brand, event("p1", amount="100.00", code=collab.discount_code))

    assert Commission.objects.get().amount_minor == 750
    assert outcomes() == {"r1": "applied", "p1": "applied"}
    ledger_ok()


def test_refunds_past_the_paid_amount_stop_at_zero_and_are_flagged() -> None:
    collab = CollaborationFactory()
    send(
        collab.brand,
        event("p1", amount="100.00", code=collab.discount_code),
        event("r1", "order.refunded", amount="60.00"),
        event("r2", "order.refunded", amount="55.00"),
    )
    order = Order.objects.get()
    assert (order.net_amount_minor, order.over_refunded_minor) == (0, 1500)
    assert Commission.objects.get().amount_minor == 0
    assert balances(collab.creator)["pending"] == 0
    ledger_ok()


def test_an_earlier_second_paid_takes_over_and_the_later_one_is_a_conflict() -> None:
    collab = CollaborationFactory()
    when = yesterday()
    send(
        collab.brand, event("p-late", amount="990.00", code=collab.discount_code, occurred_at=when)
    )
    assert Commission.objects.get().amount_minor == 9900

    send(
        collab.brand,
        event(
            "p-early",
            amount="100.00",
            code=collab.discount_code,
            occurred_at=when - dt.timedelta(seconds=1),
        ),
    )

    assert Commission.objects.get().amount_minor == 1000
    assert outcomes() == {"p-late": "conflict", "p-early": "applied"}
    assert Order.objects.get().conflicts == ["p-late"]
    ledger_ok()


def test_an_order_in_another_currency_is_rejected_with_a_clear_reason() -> None:
    collab = CollaborationFactory()  # an EUR campaign
    send(collab.brand, event("p1", currency="PLN", code=collab.discount_code))

    order = Order.objects.get()
    assert order.unattributed_reason == "wrong_currency"
    stored = OrderEvent.objects.get()
    assert stored.outcome == "rejected"
    assert "is in PLN but campaign" in stored.outcome_reason
    assert not Commission.objects.exists()
    ledger_ok()


def test_an_unknown_code_leaves_the_order_unattributed_with_its_reason() -> None:
    collab = CollaborationFactory()
    send(collab.brand, event("p1", code="NOBODY"))

    order = Order.objects.get()
    assert (order.unattributed_reason, order.unattributed_params) == (
        "unknown_code",
        {"code": "NOBODY"},
    )
    assert OrderEvent.objects.get().outcome_reason == (
        "The code NOBODY is not a tracking code or discount code of this brand."
    )
    assert balances(collab.creator)["pending"] == 0


def test_a_code_of_another_brand_does_not_attribute() -> None:
    ours = CollaborationFactory()
    theirs = CollaborationFactory()
    send(ours.brand, event("p1", code=theirs.discount_code))
    assert Order.objects.get().unattributed_reason == "unknown_code"


def test_orders_after_a_creator_is_removed_earn_nothing() -> None:
    collab = CollaborationFactory()
    removed_at = timezone.now() - dt.timedelta(hours=2)
    Collaboration.objects.filter(pk=collab.pk).update(
        status=CollaborationStatus.REMOVED, removed_at=removed_at
    )
    send(
        collab.brand,
        event(
            "before",
            order_id="A",
            code=collab.discount_code,
            occurred_at=removed_at - dt.timedelta(seconds=1),
        ),
        event("at", order_id="B", code=collab.discount_code, occurred_at=removed_at),
    )
    by_order = dict(Order.objects.values_list("order_id", "unattributed_reason"))
    assert by_order == {"A": "", "B": "collaboration_not_active"}
    assert balances(collab.creator)["pending"] == 1000
    ledger_ok()


def test_a_duplicate_event_is_counted_recorded_and_changes_nothing() -> None:
    collab = CollaborationFactory()
    send(collab.brand, event("p1", code=collab.discount_code))
    result = send(collab.brand, event("p1", code=collab.discount_code, amount="999.00"))

    assert (result.accepted, result.duplicates) == (0, 1)
    assert DuplicateOrderEvent.objects.get().event_id == "p1"
    assert Commission.objects.get().amount_minor == 1000
    assert LedgerTransaction.objects.count() == 1


def test_settling_again_posts_nothing_new() -> None:
    collab = CollaborationFactory()
    send(collab.brand, event("p1", code=collab.discount_code))
    before = LedgerTransaction.objects.count()

    orders_settle([(collab.brand_id, "A-1")], now=timezone.now())
    order_events_process_all()

    assert LedgerTransaction.objects.count() == before
    assert Commission.objects.get().revision == 1


def _click(collab: Collaboration, at: dt.datetime) -> str:
    click_partitions_ensure(days_back=40, days_ahead=2)
    click_id = new_click_id(int(at.timestamp() * 1000))
    clicks_store([ClickRecord(click_id, collab.pk, "h", "ua", "")])
    return str(click_id)


@pytest.mark.parametrize(
    ("offset", "credited"),
    [
        pytest.param(dt.timedelta(days=30), True, id="exactly-the-window"),
        pytest.param(dt.timedelta(days=30, seconds=1), False, id="one-second-outside"),
        pytest.param(dt.timedelta(days=29, hours=23, minutes=59, seconds=59), True, id="inside"),
        pytest.param(-dt.timedelta(seconds=1), False, id="click-after-order"),
    ],
)
def test_a_click_credits_within_the_attribution_window(
    offset: dt.timedelta, credited: bool
) -> None:
    collab = CollaborationFactory(campaign=CampaignFactory(window_days=30))
    order_at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    click_id = _click(collab, order_at - offset)

    send(collab.brand, event("p1", click_id=click_id, occurred_at=order_at))

    order = Order.objects.get()
    assert (order.collaboration_id == collab.pk) is credited
    if not credited:
        assert order.unattributed_reason in {"click_outside_window", "click_after_order"}


def test_a_valid_click_wins_over_another_creators_code() -> None:
    clicked = CollaborationFactory()
    coded = CollaborationFactory(campaign=clicked.campaign)
    click_id = _click(clicked, timezone.now() - dt.timedelta(days=2))
    send(clicked.brand, event("p1", click_id=click_id, code=coded.discount_code))
    order = Order.objects.get()
    assert (order.collaboration_id, order.via) == (clicked.pk, "click")


def test_an_order_naming_a_click_not_stored_yet_waits_for_it() -> None:
    collab = CollaborationFactory()
    click_at = timezone.now() - dt.timedelta(seconds=5)
    click_id = new_click_id(int(click_at.timestamp() * 1000))
    send(collab.brand, event("p1", click_id=str(click_id), occurred_at=timezone.now()))

    stored = OrderEvent.objects.get()
    assert stored.processed_at is None  # left for the sweeper while the click may arrive
    assert Order.objects.get().unattributed_reason == "unknown_click"

    click_partitions_ensure(days_back=1, days_ahead=2)
    clicks_store([ClickRecord(click_id, collab.pk, "h", "ua", "")])
    order_events_process_all()

    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.outcome == "applied"
    assert Order.objects.get().collaboration_id == collab.pk
    ledger_ok()


def test_the_hold_passes_the_commission_is_approved_and_a_later_refund_claws_back() -> None:
    collab = CollaborationFactory(campaign=CampaignFactory(hold_days=30))
    send(collab.brand, event("p1", amount="200.00", code=collab.discount_code))
    commission = Commission.objects.get()

    assert commissions_mature(now=commission.payable_at - dt.timedelta(seconds=1)) == 0
    assert commissions_mature(now=commission.payable_at) == 1

    commission.refresh_from_db()
    assert commission.status == CommissionStatus.APPROVED and commission.matured
    assert balances(collab.creator) == {"pending": 0, "available": 2000}

    send(collab.brand, event("r1", "order.refunded", amount="150.00"))

    commission.refresh_from_db()
    assert commission.amount_minor == 500
    assert balances(collab.creator) == {"pending": 0, "available": 500}
    assert (
        LedgerTransaction.objects.filter(commission_id=commission.pk).order_by("id").last().kind
        == "clawback"
    )
    ledger_ok()


def test_a_late_order_still_waits_the_full_hold() -> None:
    collab = CollaborationFactory(campaign=CampaignFactory(hold_days=10))
    send(collab.brand, event("p1", code=collab.discount_code, occurred_at=yesterday()))
    commission = Commission.objects.get()
    received = OrderEvent.objects.get().received_at
    assert commission.payable_at == received + dt.timedelta(days=10)


def test_the_budget_is_consumed_in_order_of_receipt_then_the_campaign_pauses(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    campaign = CampaignFactory(budget_minor=1500)  # 15.00 EUR at 10 %
    member = BrandMembershipFactory(brand=campaign.brand)
    collab = CollaborationFactory(campaign=campaign)
    code = collab.discount_code

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            send(campaign.brand, event(f"p{n}", order_id=f"O{n}", code=code))

    amounts = dict(
        Commission.objects.values_list("order_ref", "amount_minor").order_by("order_ref")
    )
    notes = dict(Commission.objects.values_list("order_ref", "budget_note"))
    assert amounts == {"O0": 1000, "O1": 500, "O2": 0}
    assert notes == {"O0": "", "O1": "budget_limited", "O2": "budget_exhausted"}
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    budget_mail = [m for m in mail.outbox if "budget" in m.subject]
    assert [m.to for m in budget_mail] == [[member.user.email]]
    ledger_ok()


def test_budget_shares_do_not_depend_on_which_batch_is_processed_first() -> None:
    campaign = CampaignFactory(budget_minor=1500)
    collab = CollaborationFactory(campaign=campaign)
    first = order_events_ingest(
        brand=campaign.brand, events=[event("p0", order_id="O0", code=collab.discount_code)]
    )
    second = order_events_ingest(
        brand=campaign.brand, events=[event("p1", order_id="O1", code=collab.discount_code)]
    )
    # The later batch is processed first: O1 takes the budget, then O0 (received earlier)
    # takes it back, as a recompute from scratch would give.
    order_events_process(batch_id=second.batch_id)
    assert Commission.objects.get().amount_minor == 1000
    order_events_process(batch_id=first.batch_id)

    amounts = dict(Commission.objects.values_list("order_ref", "amount_minor"))
    assert amounts == {"O0": 1000, "O1": 500}
    ledger_ok()


def test_refunds_lower_earnings_without_returning_budget() -> None:
    campaign = CampaignFactory(budget_minor=1500)
    collab = CollaborationFactory(campaign=campaign)
    code = collab.discount_code
    send(campaign.brand, event("p0", order_id="O0", code=code))
    send(campaign.brand, event("r0", "order.refunded", order_id="O0", amount="100.00"))
    send(campaign.brand, event("p1", order_id="O1", code=code))

    amounts = dict(Commission.objects.values_list("order_ref", "amount_minor"))
    assert amounts == {"O0": 0, "O1": 500}
    ledger_ok()


def test_recompute_finds_a_difference_and_apply_posts_the_correction() -> None:
    collab = CollaborationFactory()
    send(collab.brand, event("p1", code=collab.discount_code))
    # The stored terms change behind the pipeline's back (a repair by hand, say).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE campaigns_campaignterms SET commission_percent = 20 WHERE campaign_id = %s",
            [collab.campaign_id],
        )

    with pytest.raises(SystemExit) as exit_info:
        call_command("recompute_earnings", "--verify")
    assert exit_info.value.code == 1
    assert Commission.objects.get().amount_minor == 1000  # --verify touched nothing

    call_command("recompute_earnings", "--apply")

    assert Commission.objects.get().amount_minor == 2000
    assert balances(collab.creator)["pending"] == 2000
    call_command("recompute_earnings", "--verify")
    call_command("check_ledger")


@pytest.mark.parametrize(
    ("new_budget", "expected"),
    [
        pytest.param(2500, {"O0": 1000, "O1": 1000, "O2": 500}, id="raised"),
        pytest.param(500, {"O0": 500, "O1": 0, "O2": 0}, id="lowered"),
        pytest.param(None, {"O0": 1000, "O1": 1000, "O2": 1000}, id="removed"),
    ],
)
def test_a_changed_budget_is_shared_out_again_as_a_recompute_would(
    new_budget: int | None, expected: dict[str, int]
) -> None:
    campaign = CampaignFactory(budget_minor=1500)
    collab = CollaborationFactory(campaign=campaign)
    for n in range(3):
        send(campaign.brand, event(f"p{n}", order_id=f"O{n}", code=collab.discount_code))
    Campaign.objects.filter(pk=campaign.pk).update(budget_minor=new_budget)

    campaign_budget_settle(campaign.pk)

    assert dict(Commission.objects.values_list("order_ref", "amount_minor")) == expected
    assert balances(collab.creator)["pending"] == sum(expected.values())
    ledger_ok()


def test_editing_the_budget_sends_the_new_sharing_to_the_workers(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    campaign = CampaignFactory(budget_minor=1500)
    member = BrandMembershipFactory(brand=campaign.brand)
    terms = campaign_current_terms(campaign)
    assert terms is not None
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")

    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(
            campaign=campaign,
            actor=member.user,
            data=_input_of(campaign, budget_minor=3000),
            terms=TermsInput(
                commission_type=terms.commission_type,
                commission_percent=terms.commission_percent,
                commission_fixed_minor=terms.commission_fixed_minor,
                hold_days=terms.hold_days,
                attribution_window_days=terms.attribution_window_days,
            ),
        )

    queued = [json.loads(raw)["headers"] for raw in broker.lrange("celery", 0, -1)]
    assert [(h["task"], h["argsrepr"]) for h in queued] == [
        ("payouts.campaign_budget_settle", f"[{campaign.pk}]")
    ]


def test_with_the_broker_down_the_budget_is_shared_out_in_the_request(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = CampaignFactory(budget_minor=1000)
    member = BrandMembershipFactory(brand=campaign.brand)
    collab = CollaborationFactory(campaign=campaign)
    for n in range(2):
        send(campaign.brand, event(f"p{n}", order_id=f"O{n}", code=collab.discount_code))
    terms = campaign_current_terms(campaign)
    assert terms is not None

    def broker_down(*args: object, **kwargs: object) -> None:
        raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(celery_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(
            campaign=campaign,
            actor=member.user,
            data=_input_of(campaign, budget_minor=2000),
            terms=TermsInput(
                commission_type=terms.commission_type,
                commission_percent=terms.commission_percent,
                hold_days=terms.hold_days,
                attribution_window_days=terms.attribution_window_days,
            ),
        )

    assert dict(Commission.objects.values_list("order_ref", "amount_minor")) == {
        "O0": 1000,
        "O1": 1000,
    }
    ledger_ok()
