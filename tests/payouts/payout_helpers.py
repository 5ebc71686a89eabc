"""Test helpers for payouts: creators ready to be paid, and their balances."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from connect.models import CreatorProfile, User
from payouts.models import PayoutAccount, PayoutRail
from payouts.selectors import creator_balances, ledger_checks
from tests.connect.factories import CreatorProfileFactory, UserFactory
from tests.payouts.factories import give_available
from tests.payouts.stripe_fixtures import StripeServer


def stripe_ready_creator(
    server: StripeServer, *, available_minor: int = 0, currency: str = "EUR"
) -> CreatorProfile:
    """A creator with a completed connected account on the server and approved earnings."""
    creator = CreatorProfileFactory()
    account = server.client().v1.accounts.create(
        params={"country": "DE", "email": creator.user.email}
    )
    server.control(f"accounts/{account.id}", complete="true")
    PayoutAccount.objects.create(
        creator=creator,
        rail=PayoutRail.STRIPE,
        stripe_account_id=account.id,
        stripe_details_submitted=True,
        stripe_payouts_enabled=True,
        stripe_transfers_active=True,
    )
    if available_minor:
        give_available(creator, available_minor, currency)
    return creator


def balances(creator: CreatorProfile, currency: str = "EUR") -> dict[str, int]:
    return {
        kind.removeprefix("creator_"): amount
        for kind, amount in creator_balances(creator).get(currency, {}).items()
    }


def staff(name: str = "admin") -> User:
    user: User = UserFactory(is_staff=True)
    return user


def assert_ledger_ok() -> None:
    """Every invariant `manage.py check_ledger` verifies holds (failures listed if not)."""
    failures = {check.name: check.failures for check in ledger_checks() if check.failures}
    assert failures == {}
    call_command("check_ledger", stdout=StringIO())
