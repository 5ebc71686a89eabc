"""Staff payout pages: the approval queue with its filters and risk signals, bulk and single
decisions, the bank rail's export and settlement, and reconciliation differences."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from connect.models import AuditEntry, CreatorProfile, User
from payouts import payout_services
from payouts.ledger import ledger_post
from payouts.models import (
    Commission,
    LedgerTransaction,
    Order,
    Payout,
    PayoutAccount,
    PayoutStatus,
    ReconciliationDifference,
    ReconciliationKind,
)
from payouts.payout_accounts import bank_account_set
from payouts.payout_selectors import PayoutQueueFilters, payout_queue, payout_risks
from payouts.selectors import creator_balances
from tests.campaigns.factories import CollaborationFactory
from tests.connect.factories import PASSWORD, CreatorProfileFactory, UserFactory
from tests.payouts.factories import ledger_accounts, post_commission

pytestmark = pytest.mark.django_db

QUEUE = "/staff/payouts/"
BANK = "/staff/payouts/bank/"
RECONCILIATION = "/staff/reconciliation/"
_keys = itertools.count(1)


# --- helpers ------------------------------------------------------------------------------------


def stripe_creator(**kwargs: Any) -> CreatorProfile:
    creator = CreatorProfileFactory(**kwargs)
    PayoutAccount.objects.create(
        creator=creator,
        rail="stripe",
        stripe_account_id=f"acct_{creator.pk}",
        stripe_payouts_enabled=True,
        stripe_transfers_active=True,
    )
    return creator


def bank_creator(
    iban: str = "DE89370400440532013000", bic: str = "COBADEFFXXX", **kwargs: Any
) -> CreatorProfile:
    creator = CreatorProfileFactory(**kwargs)
    bank_account_set(creator=creator, holder_name="Ola Nowak", iban=iban, bic=bic, actor=None)
    return creator


def fund(creator: CreatorProfile, amount_minor: int, currency: str = "EUR") -> None:
    """Give the creator available money: a commission, then its maturation."""
    accounts = ledger_accounts(currency, creator=creator)
    key = next(_keys)
    post_commission(accounts, amount_minor, key=f"test-commission:{key}")
    ledger_post(
        idempotency_key=f"test-maturation:{key}",
        kind="maturation",
        lines=[(accounts.available, amount_minor), (accounts.pending, -amount_minor)],
    )


def request_payout(creator: CreatorProfile, amount_minor: int, currency: str = "EUR") -> Payout:
    fund(creator, amount_minor, currency)
    return payout_services.payout_request(
        creator=creator, currency=currency, amount_minor=amount_minor
    )


def staff_user(first_name: str = "Ada", email: str | None = None) -> User:
    """A staff member, the same one for the same name."""
    email = email or f"{first_name.lower()}@connect.example"
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing
    user: User = UserFactory(is_staff=True, first_name=first_name, last_name="Staff", email=email)
    return user


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def texts(response: Any) -> list[str]:
    """The messages a redirect carries, read (and so consumed) on the page it leads to."""
    assert response.status_code == 302
    landing = response.client.get(response["Location"])
    return [str(message) for message in landing.context["messages"]]


def available(creator: CreatorProfile, currency: str = "EUR") -> int:
    return creator_balances(creator)[currency]["creator_available"]


# --- access -------------------------------------------------------------------------------------

STAFF_URLS = [
    ("get", QUEUE),
    ("post", "/staff/payouts/decide/"),
    ("get", "/staff/payouts/1/"),
    ("post", "/staff/payouts/1/approve/"),
    ("post", "/staff/payouts/1/reject/"),
    ("get", BANK),
    ("post", "/staff/payouts/bank/export/"),
    ("post", "/staff/payouts/1/bank/paid/"),
    ("post", "/staff/payouts/1/bank/failed/"),
    ("get", RECONCILIATION),
    ("post", "/staff/reconciliation/1/resolve/"),
]


@pytest.mark.parametrize(("method", "url"), STAFF_URLS)
def test_every_staff_page_sends_anonymous_visitors_to_login_and_refuses_non_staff(
    method: str, url: str
) -> None:
    # given
    anonymous = Client()
    creator_client = signed_in(CreatorProfileFactory().user)

    # when
    anonymous_response = getattr(anonymous, method)(url)
    creator_response = getattr(creator_client, method)(url)

    # then
    assert anonymous_response.status_code == 302
    assert anonymous_response["Location"].startswith("/accounts/login/?next=")
    assert creator_response.status_code == 403


def test_a_non_staff_post_changes_nothing() -> None:
    # given
    payout = request_payout(stripe_creator(), 6000)
    brand_user = UserFactory()

    # when
    response = signed_in(brand_user).post(
        "/staff/payouts/decide/", {"payouts": [payout.pk], "action": "approve"}
    )

    # then
    assert response.status_code == 403
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.REQUESTED
    assert payout.first_approved_by_id is None


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_shows_requested_payouts_by_default_and_filters() -> None:
    # given
    ola = stripe_creator(handle="ola_runs", display_name="Ola Runs")
    bob = bank_creator(handle="bob_bikes", display_name="Bob Bikes")
    small = request_payout(ola, 6000)
    large = request_payout(bob, 250000)
    pln = request_payout(ola, 50000, currency="PLN")
    rejected = request_payout(stripe_creator(handle="gone_away"), 7000)
    payout_services.payout_reject(payout=rejected, actor=staff_user(), reason="Duplicate")
    client = signed_in(staff_user("Grace"))

    def shown(query: str) -> set[int]:
        response = client.get(QUEUE + query)
        assert response.status_code == 200
        return {row.payout.pk for row in response.context["rows"]}

    # when / then
    assert shown("") == {small.pk, large.pk, pln.pk}
    assert shown("?status=rejected") == {rejected.pk}
    assert shown("?status=") == {small.pk, large.pk, pln.pk, rejected.pk}
    assert shown("?rail=bank") == {large.pk}
    assert shown("?currency=PLN") == {pln.pk}
    assert shown("?creator=OLA_") == {small.pk, pln.pk}
    assert shown("?creator=%40bob") == {large.pk}
    assert shown("?creator=Bikes") == {large.pk}
    assert shown("?amount_min=100") == {large.pk, pln.pk}
    assert shown("?amount_min=1000&currency=EUR") == {large.pk}


def test_the_queue_paginates_by_fifty() -> None:
    # given
    creators = [stripe_creator() for _ in range(51)]
    for creator in creators:
        request_payout(creator, 5000)
    client = signed_in(staff_user())

    # when
    first = client.get(QUEUE)
    second = client.get(QUEUE + "?page=2")

    # then
    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 1
    assert first.context["page"].paginator.count == 51


def test_the_queue_row_shows_the_creator_amount_approvals_and_flags() -> None:
    # given
    creator = stripe_creator(handle="ola_runs", display_name="Ola Runs")
    payout = request_payout(creator, 150000)
    payout_services.payout_approve(payout=payout, actor=staff_user("Ada"))
    client = signed_in(staff_user("Grace"))

    # when
    response = client.get(QUEUE)

    # then
    html = response.content.decode()
    assert 'href="/@ola_runs"' in html
    assert "Ola Runs" in html
    assert "€1,500.00" in html
    assert "Approved by Ada Staff" in html
    assert "needs a second approval" in html
    assert 'data-risk-flag="young_account"' in html
    assert 'data-risk-flag="first_payout"' in html


# --- risk signals -------------------------------------------------------------------------------


def _order(collaboration: Any, ref: str, *, paid: int, net: int, cancelled: bool = False) -> Order:
    order: Order = Order.objects.create(
        brand=collaboration.brand,
        order_id=ref,
        currency="EUR",
        paid_amount_minor=paid,
        net_amount_minor=net,
        refunded_minor=paid - net,
        cancelled=cancelled,
        collaboration=collaboration,
        campaign=collaboration.campaign,
        creator=collaboration.creator,
    )
    return order


def _commission(order: Order, collaboration: Any, amount_minor: int, days_ago: int) -> None:
    commission = Commission.objects.create(
        order=order,
        collaboration=collaboration,
        campaign=collaboration.campaign,
        creator=collaboration.creator,
        brand=collaboration.brand,
        currency="EUR",
        amount_minor=amount_minor,
        gross_minor=amount_minor,
        order_ref=order.order_id,
    )
    Commission.objects.filter(pk=commission.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def test_risk_signals_flag_a_young_refunding_spiking_first_time_creator() -> None:
    # given: joined 5 days ago; 4 orders of which one partly refunded and one cancelled;
    # 600.00 EUR of commissions this month against 300.00 EUR over the 90 days before
    risky = stripe_creator(handle="fresh_face")
    User.objects.filter(pk=risky.user_id).update(date_joined=timezone.now() - dt.timedelta(days=5))
    collab = CollaborationFactory(creator=risky)
    orders = [
        _order(collab, "R-1", paid=10000, net=10000),
        _order(collab, "R-2", paid=10000, net=4000),
        _order(collab, "R-3", paid=10000, net=0, cancelled=True),
        _order(collab, "R-4", paid=10000, net=10000),
    ]
    _commission(orders[0], collab, 30000, days_ago=3)
    _commission(orders[1], collab, 30000, days_ago=10)
    _commission(orders[2], collab, 0, days_ago=20)
    _commission(orders[3], collab, 30000, days_ago=60)
    risky_payout = request_payout(risky, 60000)

    # and a creator of long standing, without refunds, earning steadily, paid before
    steady = stripe_creator(handle="old_hand")
    User.objects.filter(pk=steady.user_id).update(
        date_joined=timezone.now() - dt.timedelta(days=400)
    )
    steady_collab = CollaborationFactory(creator=steady)
    for index, days_ago in enumerate([5, 35, 65, 95]):
        order = _order(steady_collab, f"S-{index}", paid=10000, net=10000)
        _commission(order, steady_collab, 10000, days_ago=days_ago)
    earlier = request_payout(steady, 5000)
    Payout.objects.filter(pk=earlier.pk).update(status=PayoutStatus.PAID)
    steady_payout = request_payout(steady, 9000)

    payouts = list(payout_queue(PayoutQueueFilters()))

    # when
    risks = payout_risks(payouts)

    # then
    risk = risks[risky_payout.pk]
    assert risk.account_age_days == 5
    assert (risk.refund_orders, risk.commissioned_orders) == (2, 4)
    assert risk.recent_earnings_minor == 60000
    assert risk.monthly_average_minor == 10000
    assert risk.first_payout is True
    assert risk.flag_keys == {"young_account", "refunds", "spike", "first_payout"}
    calm = risks[steady_payout.pk]
    assert calm.account_age_days == 400
    assert (calm.refund_orders, calm.commissioned_orders) == (0, 4)
    assert (calm.recent_earnings_minor, calm.monthly_average_minor) == (10000, 10000)
    assert calm.first_payout is False
    assert calm.flag_keys == set()


def test_risk_signals_take_three_queries_whatever_the_page_size(
    django_assert_num_queries: Any,
) -> None:
    # given
    for _ in range(6):
        request_payout(stripe_creator(), 5000)
    payouts = list(payout_queue(PayoutQueueFilters()))

    # when / then
    with django_assert_num_queries(3):
        risks = payout_risks(payouts)
    assert len(risks) == 6


def test_the_queue_page_takes_as_many_queries_for_six_rows_as_for_one(
    django_assert_max_num_queries: Any,
) -> None:
    # given
    ada = staff_user("Ada")
    client = signed_in(staff_user("Grace"))
    payout = request_payout(stripe_creator(), 150000)
    payout_services.payout_approve(payout=payout, actor=ada)
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as one_row:
        assert len(client.get(QUEUE).context["rows"]) == 1
    for _ in range(5):
        more = request_payout(stripe_creator(), 150000)
        payout_services.payout_approve(payout=more, actor=ada)

    # when / then
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        assert len(client.get(QUEUE).context["rows"]) == 6


def test_a_refund_rate_of_exactly_a_fifth_is_not_flagged() -> None:
    # given
    creator = stripe_creator()
    collab = CollaborationFactory(creator=creator)
    for index in range(5):
        order = _order(collab, f"F-{index}", paid=1000, net=0 if index == 0 else 1000)
        _commission(order, collab, 100, days_ago=100)
    payout = request_payout(creator, 5000)

    # when
    risk = payout_risks(list(payout_queue(PayoutQueueFilters())))[payout.pk]

    # then
    assert (risk.refund_orders, risk.commissioned_orders) == (1, 5)
    assert "refunds" not in risk.flag_keys


# --- bulk decisions -----------------------------------------------------------------------------


def test_bulk_approval_leaves_a_large_payout_awaiting_a_second_different_approver() -> None:
    # given: 60.00 EUR and 1,500.00 EUR (above the 1,000.00 EUR second-approval amount)
    small = request_payout(stripe_creator(), 6000)
    large = request_payout(stripe_creator(), 150000)
    ada, grace = staff_user("Ada"), staff_user("Grace")
    ada_client = signed_in(ada)

    # when: Ada approves both
    response = ada_client.post(
        "/staff/payouts/decide/",
        {"payouts": [small.pk, large.pk], "action": "approve", "next": QUEUE},
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == QUEUE
    small.refresh_from_db()
    large.refresh_from_db()
    assert small.status == PayoutStatus.APPROVED
    assert large.status == PayoutStatus.REQUESTED
    assert large.first_approved_by_id == ada.pk
    assert texts(response) == [
        f"Approved 1 payout: #{small.pk}.",
        f"Your approval is recorded; #{large.pk} needs a second approval by another staff member.",
    ]

    # when: Ada tries again, then Grace approves
    again = texts(
        ada_client.post("/staff/payouts/decide/", {"payouts": [large.pk], "action": "approve"})
    )
    second = texts(
        signed_in(grace).post(
            "/staff/payouts/decide/", {"payouts": [large.pk], "action": "approve"}
        )
    )

    # then
    assert again == [
        f"Payout #{large.pk}: You already approved this payout; a second, different admin "
        "must approve it."
    ]
    assert second == [f"Approved 1 payout: #{large.pk}."]
    large.refresh_from_db()
    assert large.status == PayoutStatus.APPROVED
    assert (large.first_approved_by_id, large.second_approved_by_id) == (ada.pk, grace.pk)


def test_bulk_rejection_needs_a_reason_and_returns_the_money() -> None:
    # given
    ola, bob = stripe_creator(), stripe_creator()
    first = request_payout(ola, 6000)
    second = request_payout(bob, 7000)
    client = signed_in(staff_user())
    assert available(ola) == 0

    # when: no reason
    refused = texts(
        client.post(
            "/staff/payouts/decide/", {"payouts": [first.pk, second.pk], "action": "reject"}
        )
    )

    # then
    assert refused == ["Give a reason for rejecting; the creator reads it."]
    assert Payout.objects.filter(status=PayoutStatus.REJECTED).count() == 0

    # when: with a reason
    response = client.post(
        "/staff/payouts/decide/",
        {"payouts": [first.pk, second.pk], "action": "reject", "reason": "Suspicious orders"},
    )

    # then
    assert texts(response) == [
        f"Rejected 2 payouts: #{first.pk}, #{second.pk}. The money is back in the creators' "
        "balances."
    ]
    first.refresh_from_db()
    assert first.status == PayoutStatus.REJECTED
    assert first.rejection_reason == "Suspicious orders"
    assert creator_balances(ola)["EUR"]["creator_available"] == 6000
    assert creator_balances(ola)["EUR"]["creator_in_flight"] == 0
    assert available(bob) == 7000


def test_bulk_decisions_report_each_refusal_and_go_on() -> None:
    # given: one payout already rejected, one the staff member's own, one fine
    staff = staff_user()
    own_creator = stripe_creator(user=staff)
    own = request_payout(own_creator, 6000)
    gone = request_payout(stripe_creator(), 6000)
    payout_services.payout_reject(payout=gone, actor=staff_user("Grace"), reason="No")
    fine = request_payout(stripe_creator(), 6000)

    # when
    response = signed_in(staff).post(
        "/staff/payouts/decide/",
        {"payouts": [own.pk, gone.pk, fine.pk, 999999], "action": "approve"},
    )

    # then
    assert texts(response) == [
        f"Approved 1 payout: #{fine.pk}.",
        f"Payout #{own.pk}: You cannot approve your own payout.",
        f"Payout #{gone.pk}: This payout is rejected; only a payout awaiting approval can be "
        "approved.",
        "Payout #999999: not found.",
    ]
    assert Payout.objects.get(pk=fine.pk).status == PayoutStatus.APPROVED
    assert Payout.objects.get(pk=own.pk).status == PayoutStatus.REQUESTED


# --- one payout ---------------------------------------------------------------------------------


def test_the_payout_page_shows_balances_ledger_and_audit_and_decides() -> None:
    # given
    creator = stripe_creator(handle="ola_runs")
    fund(creator, 2000)
    payout = request_payout(creator, 6000)
    ada = staff_user("Ada")
    client = signed_in(ada)

    # when
    page = client.get(f"/staff/payouts/{payout.pk}/")

    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert [tx.kind for tx in page.context["transactions"]] == ["payout_reserve"]
    assert 'data-ledger-kind="payout_reserve"' in html
    assert 'data-audit-action="payouts.payout.requested"' in html
    assert page.context["balances"] == [
        (
            "EUR",
            {
                "creator_pending": 0,
                "creator_available": 2000,
                "creator_in_flight": 6000,
                "creator_paid_out": 0,
            },
        )
    ]
    assert page.context["can_approve"] is True

    # when: rejected without a reason, then with one
    refused = texts(client.post(f"/staff/payouts/{payout.pk}/reject/", {"reason": "  "}))
    rejected = texts(client.post(f"/staff/payouts/{payout.pk}/reject/", {"reason": "Fake orders"}))

    # then
    assert refused == ["Give a reason for rejecting; the creator reads it."]
    assert rejected == [
        f"Payout #{payout.pk} rejected; the money is back in the creator's balance."
    ]
    after = client.get(f"/staff/payouts/{payout.pk}/")
    assert [tx.kind for tx in after.context["transactions"]] == [
        "payout_reserve",
        "payout_release",
    ]
    assert [entry.action for entry in after.context["audit_entries"]] == [
        "payouts.payout.rejected",
        "payouts.payout.requested",
    ]
    assert after.context["can_approve"] is False
    assert available(creator) == 8000


def test_the_payout_page_approves_once_and_needs_a_second_approver_above_the_threshold() -> None:
    # given
    payout = request_payout(stripe_creator(), 120000)
    ada, grace = staff_user("Ada"), staff_user("Grace")

    # when
    first = texts(signed_in(ada).post(f"/staff/payouts/{payout.pk}/approve/"))
    second = texts(signed_in(grace).post(f"/staff/payouts/{payout.pk}/approve/"))

    # then
    assert first == ["Your approval is recorded; another staff member must approve it as well."]
    assert second == [f"Payout #{payout.pk} approved."]
    assert Payout.objects.get(pk=payout.pk).status == PayoutStatus.APPROVED


def test_an_unknown_payout_is_a_404() -> None:
    assert signed_in(staff_user()).get("/staff/payouts/424242/").status_code == 404


# --- the bank rail --------------------------------------------------------------------------------


@pytest.fixture
def debtor(settings: Any) -> None:
    settings.PAYOUT_SEPA_DEBTOR_NAME = "Connect Marketplace sp. z o.o."
    settings.PAYOUT_SEPA_DEBTOR_IBAN = "DE02120300000000202051"
    settings.PAYOUT_SEPA_DEBTOR_BIC = "BYLADEM1001"


def test_bank_payouts_are_exported_once_then_marked_paid_or_failed(debtor: None) -> None:
    # given: two approved bank payouts
    ola = bank_creator(handle="ola_bank")
    bob = bank_creator(iban="FR1420041010050500013M02606", bic="PSSTFRPPXXX", handle="bob_bank")
    to_pay = request_payout(ola, 12345)
    to_fail = request_payout(bob, 6000)
    staff = staff_user()
    for payout in (to_pay, to_fail):
        payout_services.payout_approve(payout=payout, actor=staff)
    client = signed_in(staff)
    page = client.get(BANK)
    assert [group.currency for group in page.context["groups"]] == ["EUR"]
    assert page.context["groups"][0].to_export_minor == 18345

    # when: the file is downloaded
    response = client.post("/staff/payouts/bank/export/", {"currency": "EUR"})

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"].startswith('attachment; filename="connect-sepa-eur-')
    assert b"<NbOfTxs>2</NbOfTxs>" in response.content
    assert b"<CtrlSum>183.45</CtrlSum>" in response.content
    assert b"FR1420041010050500013M02606" in response.content
    to_pay.refresh_from_db()
    assert to_pay.bank_exported_at is not None
    assert AuditEntry.objects.filter(
        action="payouts.payout.bank_exported", target_id=str(to_pay.pk)
    ).exists()

    # when: a second download finds nothing new
    again = client.post("/staff/payouts/bank/export/", {"currency": "EUR"})

    # then
    assert again.status_code == 302
    assert texts(again) == ["No EUR payout to export."]

    # when: the bank paid one and refused the other
    no_reference = texts(client.post(f"/staff/payouts/{to_pay.pk}/bank/paid/", {"reference": ""}))
    paid = texts(client.post(f"/staff/payouts/{to_pay.pk}/bank/paid/", {"reference": "BANK-REF-1"}))
    failed = texts(
        client.post(f"/staff/payouts/{to_fail.pk}/bank/failed/", {"reason": "Account closed"})
    )

    # then
    assert no_reference == ["Enter the bank's reference for this transfer."]
    assert paid == [f"Payout #{to_pay.pk} is paid."]
    assert failed == [f"Payout #{to_fail.pk} failed; the money is back in the creator's balance."]
    to_pay.refresh_from_db()
    to_fail.refresh_from_db()
    assert (to_pay.status, to_pay.bank_reference) == (PayoutStatus.PAID, "BANK-REF-1")
    assert (to_fail.status, to_fail.failure_reason) == (PayoutStatus.FAILED, "Account closed")
    assert creator_balances(ola)["EUR"] == {
        "creator_pending": 0,
        "creator_available": 0,
        "creator_in_flight": 0,
        "creator_paid_out": 12345,
    }
    assert creator_balances(bob)["EUR"]["creator_available"] == 6000
    assert creator_balances(bob)["EUR"]["creator_in_flight"] == 0
    assert list(
        LedgerTransaction.objects.filter(payout_id=to_pay.pk)
        .order_by("pk")
        .values_list("kind", flat=True)
    ) == ["payout_reserve", "payout_sent"]
    assert list(
        LedgerTransaction.objects.filter(payout_id=to_fail.pk)
        .order_by("pk")
        .values_list("kind", flat=True)
    ) == ["payout_reserve", "payout_release"]
    assert client.get(BANK).context["groups"] == []
    call_command("check_ledger")


def test_marking_an_unapproved_bank_payout_paid_is_refused(debtor: None) -> None:
    # given
    payout = request_payout(bank_creator(), 6000)

    # when
    response = signed_in(staff_user()).post(
        f"/staff/payouts/{payout.pk}/bank/paid/", {"reference": "REF"}
    )

    # then
    assert texts(response) == ["Only an approved bank payout can be marked paid."]
    assert Payout.objects.get(pk=payout.pk).status == PayoutStatus.REQUESTED


def test_the_export_is_refused_without_the_platform_bank_account(settings: Any) -> None:
    # given
    settings.PAYOUT_SEPA_DEBTOR_IBAN = ""
    payout = request_payout(bank_creator(), 6000)
    staff = staff_user()
    payout_services.payout_approve(payout=payout, actor=staff)

    # when
    response = signed_in(staff).post("/staff/payouts/bank/export/", {"currency": "EUR"})

    # then
    assert response.status_code == 302
    assert texts(response) == [
        "The platform's bank account is not configured (PAYOUT_SEPA_DEBTOR_IBAN)."
    ]
    assert Payout.objects.get(pk=payout.pk).bank_exported_at is None


# --- reconciliation -----------------------------------------------------------------------------


def test_a_difference_is_resolved_with_a_note_and_audited() -> None:
    # given
    payout = request_payout(stripe_creator(handle="ola_runs"), 6000)
    difference = ReconciliationDifference.objects.create(
        kind=ReconciliationKind.AMOUNT_MISMATCH,
        payout=payout,
        stripe_transfer_id="tr_123",
        currency="EUR",
        expected_minor=6000,
        actual_minor=5000,
    )
    staff = staff_user()
    client = signed_in(staff)

    # when
    page = client.get(RECONCILIATION)
    without_note = texts(
        client.post(f"/staff/reconciliation/{difference.pk}/resolve/", {"note": ""})
    )
    resolved = texts(
        client.post(
            f"/staff/reconciliation/{difference.pk}/resolve/",
            {"note": "Refunded by Stripe support"},
        )
    )

    # then
    html = page.content.decode()
    assert "Transfer amount or currency differs from the payout" in html
    assert "tr_123" in html
    assert "€60.00" in html and "€50.00" in html
    assert without_note == ["Say what you found or did about this difference."]
    assert resolved == ["Difference resolved."]
    difference.refresh_from_db()
    assert difference.resolved_by_id == staff.pk
    assert difference.resolution_note == "Refunded by Stripe support"
    assert difference.resolved_at is not None
    entry = AuditEntry.objects.get(action="payouts.reconciliation_difference.resolved")
    assert entry.target_id == str(difference.pk)
    assert entry.after["resolution_note"] == "Refunded by Stripe support"
    assert client.get(RECONCILIATION).context["differences"] == []


# --- in a browser -------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_approve_from_the_queue_in_a_browser(
    live_server: Any, browser: Browser, screenshot: Callable[[Page, str], Path]
) -> None:
    # given: a new creator with refunds, a large payout with one approval, a bank payout
    fresh = stripe_creator(handle="fresh_face", display_name="Fresh Face")
    collab = CollaborationFactory(creator=fresh)
    _commission(_order(collab, "R-1", paid=10000, net=0, cancelled=True), collab, 0, 3)
    _commission(_order(collab, "R-2", paid=10000, net=10000), collab, 9000, 3)
    risky = request_payout(fresh, 9000)
    steady = stripe_creator(handle="ola_runs", display_name="Ola Runs")
    User.objects.filter(pk=steady.user_id).update(
        date_joined=timezone.now() - dt.timedelta(days=400)
    )
    large = request_payout(steady, 240000)
    payout_services.payout_approve(payout=large, actor=staff_user("Ada"))
    request_payout(bank_creator(handle="bob_bank", display_name="Bob Bank"), 6500)
    exported = request_payout(bank_creator(handle="eva_bank", display_name="Eva Bank"), 7000)
    payout_services.payout_approve(payout=exported, actor=staff_user("Ada"))
    payout_services.payout_bank_mark_exported(payouts=[exported], actor=staff_user("Ada"))
    grace = UserFactory(
        email="grace@connect.example",
        first_name="Grace",
        last_name="Staff",
        is_staff=True,
        verified=True,
    )
    base = live_server.url
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", grace.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign In")).to_have_count(0)

    # when: Grace opens the queue
    page.goto(f"{base}{QUEUE}")

    # then
    expect(page.get_by_role("heading", name="Payout approvals")).to_be_visible()
    expect(page.locator(f'[data-payout-row="{large.pk}"]')).to_contain_text(
        "needs a second approval"
    )
    expect(
        page.locator(f'[data-payout-row="{risky.pk}"] [data-risk-flag="refunds"]')
    ).to_be_visible()
    screenshot(page, "queue")

    # when: she ticks the large payout and approves it
    page.get_by_label(f"Select payout #{large.pk}").check()
    page.get_by_role("button", name="Approve selected").click()

    # then
    expect(page.get_by_role("alert")).to_contain_text(f"Approved 1 payout: #{large.pk}.")
    expect(page.locator(f'[data-payout-row="{large.pk}"]')).to_have_count(0)
    screenshot(page, "queue-after-approval")

    # when: she opens the risky payout
    page.locator(f'[data-payout-row="{risky.pk}"]').get_by_role("link", name="Open").click()

    # then
    expect(page.get_by_role("heading", name=f"Payout #{risky.pk}")).to_be_visible()
    expect(page.locator('[data-audit-action="payouts.payout.requested"]')).to_be_visible()
    screenshot(page, "detail")

    # when: she marks the exported bank payout paid
    page.get_by_role("link", name="Bank transfers").click()
    screenshot(page, "bank")
    page.get_by_label("Bank reference").fill("SEPA-2026-11-30-1")
    page.get_by_role("button", name="Mark paid").click()

    # then
    expect(page.get_by_role("alert")).to_contain_text(f"Payout #{exported.pk} is paid.")
    assert Payout.objects.get(pk=exported.pk).status == PayoutStatus.PAID
    context.close()
    assert Payout.objects.get(pk=large.pk).status == PayoutStatus.APPROVED
