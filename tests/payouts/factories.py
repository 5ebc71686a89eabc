"""Ledger test helpers: accounts through the real service, and balanced commission postings."""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.models import Brand
from connect.models import CreatorProfile
from payouts.ledger import LedgerLine, ledger_account_get_or_create, ledger_post
from payouts.models import LedgerAccount, LedgerAccountKind, LedgerTransaction
from tests.campaigns.factories import BrandFactory
from tests.connect.factories import CreatorProfileFactory


@dataclass(frozen=True)
class LedgerAccounts:
    """A creator's four accounts and a brand's commission account in one currency."""

    currency: str
    creator: CreatorProfile
    brand: Brand
    pending: LedgerAccount
    available: LedgerAccount
    in_flight: LedgerAccount
    paid_out: LedgerAccount
    brand_owed: LedgerAccount


def ledger_accounts(
    currency: str = "EUR", creator: CreatorProfile | None = None, brand: Brand | None = None
) -> LedgerAccounts:
    creator = creator or CreatorProfileFactory()
    brand = brand or BrandFactory()

    def creator_account(kind: str) -> LedgerAccount:
        return ledger_account_get_or_create(kind=kind, currency=currency, creator=creator)

    return LedgerAccounts(
        currency=currency,
        creator=creator,
        brand=brand,
        pending=creator_account(LedgerAccountKind.CREATOR_PENDING),
        available=creator_account(LedgerAccountKind.CREATOR_AVAILABLE),
        in_flight=creator_account(LedgerAccountKind.CREATOR_IN_FLIGHT),
        paid_out=creator_account(LedgerAccountKind.CREATOR_PAID_OUT),
        brand_owed=ledger_account_get_or_create(
            kind=LedgerAccountKind.BRAND_COMMISSION_OWED, currency=currency, brand=brand
        ),
    )


def post_commission(accounts: LedgerAccounts, amount_minor: int, key: str) -> LedgerTransaction:
    """Credit the creator's pending account, debit the brand's commission owed."""
    return ledger_post(
        idempotency_key=key,
        kind="commission",
        lines=[
            LedgerLine.of(accounts.pending, amount_minor),
            LedgerLine.of(accounts.brand_owed, -amount_minor),
        ],
    )


def give_available(creator: CreatorProfile, amount_minor: int, currency: str = "EUR") -> None:
    """Earn and approve `amount_minor` for the creator through real ledger postings (a
    commission from a fresh brand, then its maturation)."""
    accounts = ledger_accounts(currency, creator=creator)
    key = f"test-earning:{creator.pk}:{currency}:{LedgerTransaction.objects.count()}"
    post_commission(accounts, amount_minor, key)
    ledger_post(
        idempotency_key=f"{key}:matured",
        kind="maturation",
        lines=[
            LedgerLine.of(accounts.available, amount_minor),
            LedgerLine.of(accounts.pending, -amount_minor),
        ],
    )
