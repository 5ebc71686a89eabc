"""Creators' payout accounts: the Stripe connected account and the bank account."""

from __future__ import annotations

from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from connect.audit import audit_record
from payouts.models import PayoutAccount


def _field(obj: Any, name: str) -> Any:
    """A field of a Stripe object or of a nested mapping, None when absent."""
    return dict(obj or {}).get(name)


@transaction.atomic
def stripe_account_sync(*, account: stripe.Account) -> PayoutAccount | None:
    """Copy what Stripe says of a connected account (fetched from Stripe, never taken from a
    browser redirect or an event body) onto our payout account. Unknown accounts: None."""
    payout_account = (
        PayoutAccount.objects.select_for_update().filter(stripe_account_id=account.id).first()
    )
    if payout_account is None:
        return None
    requirements = _field(account, "requirements") or {}
    before = {
        "payouts_enabled": payout_account.stripe_payouts_enabled,
        "transfers_active": payout_account.stripe_transfers_active,
        "requirements_due": list(payout_account.stripe_requirements_due),
    }
    payout_account.stripe_details_submitted = bool(_field(account, "details_submitted"))
    payout_account.stripe_payouts_enabled = bool(_field(account, "payouts_enabled"))
    payout_account.stripe_transfers_active = (
        _field(_field(account, "capabilities"), "transfers") == "active"
    )
    payout_account.stripe_requirements_due = list(_field(requirements, "currently_due") or [])
    payout_account.stripe_disabled_reason = str(_field(requirements, "disabled_reason") or "")
    payout_account.stripe_synced_at = timezone.now()
    payout_account.save()
    after = {
        "payouts_enabled": payout_account.stripe_payouts_enabled,
        "transfers_active": payout_account.stripe_transfers_active,
        "requirements_due": list(payout_account.stripe_requirements_due),
    }
    if after != before:
        audit_record(
            actor=None,
            action="payouts.payout_account.stripe_synced",
            target=payout_account,
            before=before,
            after=after,
        )
    return payout_account
