"""Closing a creator's Stripe connected account once they have deleted their account.

The account deletion calls `stripe_account_close_after_deletion` inside its transaction: the
payout account is marked (`stripe_close_requested_at`) in that same transaction, and once it
commits a worker closes the account at Stripe (`payout_account_close_at_stripe`). The mark,
not the message, is what counts: the daily sweep (`payout_accounts_due_for_stripe_close`)
finds every marked account that is not closed yet, so a lost message, a killed worker, a day
without Stripe or a refusal are all tried again.

Stripe deletes an Express account only once every balance on it is zero. A refusal is kept
on the payout account (`stripe_close_error`) and written to the audit log
(`payouts.stripe_account.close_refused`, on the staff audit page) when it differs from the
last one, and the account stays open until a later attempt succeeds. An account Stripe no
longer knows (an earlier attempt deleted it and its answer was lost) counts as closed. While
a payout to the account is still on its way to the bank, closing waits: Stripe's news of that
payout is read from the account, which must still exist. The account id stays on the payout
account after closing, since past payouts name it.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from connect.audit import audit_record
from connect.models import CreatorProfile
from payouts.models import OPEN_PAYOUT_STATUSES, Payout, PayoutAccount, PayoutRail, PayoutStatus
from payouts.stripe_client import stripe_client

logger = logging.getLogger(__name__)

# Payouts whose money may still move through the connected account: closing waits for them.
_IN_TRANSIT_STATUSES = frozenset({*OPEN_PAYOUT_STATUSES, PayoutStatus.SENT})


class CloseOutcome(enum.StrEnum):
    CLOSED = "closed"  # deleted at Stripe now, or Stripe no longer knows the account
    ALREADY_CLOSED = "already_closed"  # recorded as closed before
    NOT_REQUESTED = "not_requested"  # no connected account, or no deletion asked for closing
    WAITING = "waiting"  # a payout to the account is still on its way; the sweep tries again
    REFUSED = "refused"  # Stripe refused (a balance is left); the sweep tries again


def _enqueue_close(payout_account_id: int) -> None:
    """Close the account from a worker once this transaction commits; if the broker is down,
    the daily sweep finds the mark."""

    def close() -> None:
        from payouts.tasks import payout_account_stripe_close as task

        try:
            task.delay(payout_account_id)
        except Exception:  # noqa: BLE001 - the broker is down: the sweep closes it later
            logger.warning(
                "Could not enqueue closing payout account %s at Stripe; the sweep will.",
                payout_account_id,
            )

    transaction.on_commit(close)


@transaction.atomic
def stripe_account_close_after_deletion(*, creator: CreatorProfile) -> bool:
    """Have the deleted creator's Stripe connected account closed once the deletion commits.

    Call it inside the deletion's transaction: the request is recorded there (a rolled-back
    deletion asks for nothing) and the close runs after the commit. False when the creator
    has no connected account or it is closed already. Calling it again changes nothing.
    """
    account = (
        PayoutAccount.objects.select_for_update()
        .filter(creator=creator)
        .exclude(stripe_account_id="")
        .first()
    )
    if account is None or account.stripe_closed_at is not None:
        return False
    if account.stripe_close_requested_at is None:
        account.stripe_close_requested_at = timezone.now()
        account.save(update_fields=["stripe_close_requested_at", "updated_at"])
    _enqueue_close(account.pk)
    return True


def _snapshot(account: PayoutAccount) -> dict[str, Any]:
    """What the audit log records of the connected account's closing."""
    closed_at = account.stripe_closed_at
    return {
        "stripe_account_id": account.stripe_account_id,
        "closed_at": closed_at.isoformat() if closed_at is not None else None,
        "payouts_enabled": account.stripe_payouts_enabled,
        "transfers_active": account.stripe_transfers_active,
        "close_error": account.stripe_close_error,
    }


def _error_text(error: stripe.StripeError) -> str:
    code = getattr(error, "code", None) or ""
    status = error.http_status or ""
    return f"{type(error).__name__} {status} {code}: {error.user_message or error}".strip()


@transaction.atomic
def _record_closed(payout_account_id: int, *, at_stripe: str) -> CloseOutcome:
    account = PayoutAccount.objects.select_for_update().get(pk=payout_account_id)
    if account.stripe_closed_at is not None:
        return CloseOutcome.ALREADY_CLOSED  # another worker recorded it first
    before = _snapshot(account)
    account.stripe_closed_at = timezone.now()
    account.stripe_close_error = ""
    # Nothing can be sent to a closed account: it no longer counts as ready for payouts.
    account.stripe_payouts_enabled = False
    account.stripe_transfers_active = False
    account.save(
        update_fields=[
            "stripe_closed_at",
            "stripe_close_error",
            "stripe_payouts_enabled",
            "stripe_transfers_active",
            "updated_at",
        ]
    )
    audit_record(
        actor=None,
        action="payouts.stripe_account.closed",
        target=account,
        before=before,
        after={**_snapshot(account), "at_stripe": at_stripe},
    )
    return CloseOutcome.CLOSED


@transaction.atomic
def _record_problem(
    payout_account_id: int, error: str, *, action: str | None, detail: dict[str, Any]
) -> None:
    """Keep the latest reason the account is still open; audit it (`action`) when it is new,
    so a refusal repeated every day is one entry, not one a day."""
    account = PayoutAccount.objects.select_for_update().get(pk=payout_account_id)
    if account.stripe_closed_at is not None or account.stripe_close_error == error:
        return
    before = _snapshot(account)
    account.stripe_close_error = error[:2000]
    account.save(update_fields=["stripe_close_error", "updated_at"])
    if action is not None:
        audit_record(
            actor=None,
            action=action,
            target=account,
            before=before,
            after={**_snapshot(account), **detail},
        )


def _payout_in_transit(account: PayoutAccount) -> int | None:
    """A Stripe payout to this account whose money may still move, if any."""
    return (
        Payout.objects.filter(
            rail=PayoutRail.STRIPE,
            stripe_account_id=account.stripe_account_id,
            status__in=_IN_TRANSIT_STATUSES,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def payout_account_close_at_stripe(
    *, payout_account_id: int, client: stripe.StripeClient | None = None
) -> CloseOutcome:
    """Delete the connected account at Stripe if its creator's deletion asked for it, and
    record it closed (audited once). Safe to run any number of times, concurrently too.

    Refusals (a balance left on the account, or no access to it) are recorded for staff and
    returned; the sweep tries again. Temporary failures (no connection, 5xx, rate limits) are
    recorded and raised for the task to retry.
    """
    account = PayoutAccount.objects.filter(pk=payout_account_id).first()
    if account is None or not account.stripe_account_id or not account.stripe_close_requested_at:
        return CloseOutcome.NOT_REQUESTED
    if account.stripe_closed_at is not None:
        return CloseOutcome.ALREADY_CLOSED
    in_transit = _payout_in_transit(account)
    if in_transit is not None:
        _record_problem(
            account.pk,
            f"Waiting for payout {in_transit} to reach the bank before closing the account.",
            action="payouts.stripe_account.close_waiting",
            detail={"payout": in_transit},
        )
        return CloseOutcome.WAITING
    client = client or stripe_client()
    try:
        # No idempotency key: Stripe ignores them on DELETE, and a repeated delete is answered
        # `resource_missing`, which counts as closed below.
        deleted = client.v1.accounts.delete(account.stripe_account_id)
    except (stripe.InvalidRequestError, stripe.PermissionError) as error:
        if isinstance(error, stripe.InvalidRequestError) and error.code == "resource_missing":
            return _record_closed(account.pk, at_stripe="already gone")
        _record_problem(
            account.pk,
            _error_text(error),
            action="payouts.stripe_account.close_refused",
            detail={},
        )
        return CloseOutcome.REFUSED
    except stripe.StripeError as error:
        _record_problem(account.pk, _error_text(error), action=None, detail={})
        logger.warning("Payout account %s not closed at Stripe yet: %s", account.pk, error)
        raise
    if not getattr(deleted, "deleted", False):
        _record_problem(
            account.pk,
            f"Stripe answered without deleting {account.stripe_account_id}.",
            action="payouts.stripe_account.close_refused",
            detail={},
        )
        return CloseOutcome.REFUSED
    return _record_closed(account.pk, at_stripe="deleted")


def payout_accounts_due_for_stripe_close(limit: int = 1000) -> list[int]:
    """Payout accounts whose closing was asked for and is not done: oldest request first. For
    the sweep."""
    return list(
        PayoutAccount.objects.filter(
            stripe_close_requested_at__isnull=False, stripe_closed_at__isnull=True
        )
        .exclude(stripe_account_id="")
        .order_by("stripe_close_requested_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
