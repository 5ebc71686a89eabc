"""Payouts: every change of a payout's state, with its ledger posting, audit entry and email.

- `payout_request` reserves the amount at once (available -> in flight) under a lock on the
  creator's balance rows, so concurrent requests can never spend the same money.
- `payout_approve` / `payout_reject`: staff only; above the currency's second-approval
  amount two different staff members must approve. Rejection returns the money.
- `payout_send` (a worker task per approved Stripe payout) claims the payout with a lease,
  creates one Stripe transfer with an idempotency key and a `transfer_group` derived from the
  payout, and looks the transfer up by its group before any retry, so a payout moves money
  at most once even when an answer is lost or the server forgot the key. Definitive refusals
  fail the payout and return the money; temporary ones (balance, 5xx, timeouts) retry.
  It then asks Stripe to pay the connected account's balance out to the creator's bank.
- `payout_bank_mark_paid` / `payout_bank_mark_failed`: staff settle bank-rail payouts after
  sending the SEPA file.
- `payout_apply_transfer_reversal` / `payout_apply_connected_payout`: what webhooks learn
  (re-fetched from Stripe, never trusted from the event body).

Ledger keys: `payout_reserve:<id>`, `payout_release:<id>`, `payout_sent:<id>`,
`payout_reversed:<id>:<total reversed>`.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from connect.audit import audit_record
from connect.models import CreatorProfile, User
from connect.money import format_money, to_minor
from connect.notifications import notify
from payouts.ledger import LedgerLine, ledger_accounts_ensure, ledger_post
from payouts.models import (
    LedgerAccountKind,
    LedgerTransactionKind,
    Payout,
    PayoutAccount,
    PayoutOrigin,
    PayoutRail,
    PayoutStatus,
)
from payouts.stripe_client import stripe_client

logger = logging.getLogger(__name__)

# Stripe error codes that will not change by retrying: the payout fails and the money returns.
DEFINITIVE_TRANSFER_CODES = frozenset(
    {
        "account_invalid",
        "account_closed",
        "insufficient_capabilities_for_transfer",
        "payouts_not_allowed",
        "transfers_not_allowed",
        "resource_missing",
        "amount_too_small",
        "amount_too_large",
        "invalid_request_error",
    }
)
# Codes that clear up on their own (the platform balance gets topped up).
TEMPORARY_TRANSFER_CODES = frozenset({"balance_insufficient", "rate_limit", "lock_timeout"})


def _amount_setting(table: dict[str, str], currency: str) -> int:
    raw = table.get(currency, table.get("*", "0"))
    return to_minor(str(raw), currency)


def payout_minimum_minor(currency: str) -> int:
    """The smallest payout in the currency, in minor units (settings.PAYOUT_MINIMUMS)."""
    return _amount_setting(settings.PAYOUT_MINIMUMS, currency)


def payout_second_approval_above_minor(currency: str) -> int:
    """Payouts above this many minor units need a second, different staff approval."""
    return _amount_setting(settings.PAYOUT_SECOND_APPROVAL_ABOVE, currency)


def payout_needs_second_approval(payout: Payout) -> bool:
    return payout.amount_minor > payout_second_approval_above_minor(payout.currency)


def _money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency)


def _snapshot(payout: Payout) -> dict[str, Any]:
    """What the audit log records of a payout before and after an action."""
    return {
        "status": payout.status,
        "amount_minor": payout.amount_minor,
        "currency": payout.currency,
        "rail": payout.rail,
        "first_approved_by": payout.first_approved_by_id,
        "second_approved_by": payout.second_approved_by_id,
        "stripe_transfer_id": payout.stripe_transfer_id,
        "bank_reference": payout.bank_reference,
        "failure_code": payout.failure_code,
        "reversed_minor": payout.reversed_minor,
    }


def _accounts(creator_id: int, currency: str) -> dict[str, int]:
    kinds = (
        LedgerAccountKind.CREATOR_AVAILABLE,
        LedgerAccountKind.CREATOR_IN_FLIGHT,
        LedgerAccountKind.CREATOR_PAID_OUT,
    )
    ids = ledger_accounts_ensure([(kind, currency, creator_id, None) for kind in kinds])
    return {kind: ids[(kind, currency, creator_id, None)] for kind in kinds}


def _lock_balances(account_ids: list[int]) -> dict[int, int]:
    """Lock balance rows in ascending id order (the ledger's own lock order) and read them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, balance_minor FROM payouts_ledgerbalance "
            "WHERE account_id = ANY(%s) ORDER BY account_id FOR UPDATE",
            [sorted(account_ids)],
        )
        return dict(cursor.fetchall())


def _post_move(
    payout: Payout, *, key: str, kind: str, credit: str, debit: str, amount_minor: int
) -> None:
    """One balanced movement between two of the creator's accounts for this payout."""
    accounts = _accounts(payout.creator_id, payout.currency)
    ledger_post(
        idempotency_key=key,
        kind=kind,
        lines=[
            LedgerLine(accounts[credit], amount_minor, payout.currency),
            LedgerLine(accounts[debit], -amount_minor, payout.currency),
        ],
        payout_id=payout.pk,
        metadata={"payout": payout.pk},
    )


def _notify_creator(payout: Payout, template: str) -> None:
    creator = CreatorProfile.objects.select_related("user").get(pk=payout.creator_id)
    notify(
        users=[creator.user],
        template=template,
        context={"payout": payout, "creator": creator},
    )


# --- requesting ---------------------------------------------------------------------------


@transaction.atomic
def payout_request(
    *,
    creator: CreatorProfile,
    currency: str,
    amount_minor: int | None = None,
    actor: User | None = None,
    origin: str = PayoutOrigin.CREATOR,
) -> Payout:
    """Request a payout of `amount_minor` (default: the whole available balance).

    The amount is reserved (available -> in flight) in the same transaction, under a lock on
    the creator's balance rows: concurrent requests queue there and each sees what the ones
    before it left, so together they never exceed the balance.
    """
    currency = currency.upper()
    creator = CreatorProfile.objects.get(pk=creator.pk)
    if creator.is_suspended:
        raise ValidationError(_("Your account is suspended; payouts are on hold."))
    account = PayoutAccount.objects.filter(creator=creator).first()
    if account is None or not account.ready:
        raise ValidationError(
            _("Set up how you get paid first: connect Stripe or add your bank account.")
        )
    if account.rail == PayoutRail.BANK and currency not in settings.PAYOUT_BANK_CURRENCIES:
        raise ValidationError(
            _("Bank transfers go out in %(currencies)s only; connect Stripe for %(currency)s.")
            % {"currencies": ", ".join(settings.PAYOUT_BANK_CURRENCIES), "currency": currency}
        )
    ids = _accounts(creator.pk, currency)
    balances = _lock_balances(list(ids.values()))
    available = balances.get(ids[LedgerAccountKind.CREATOR_AVAILABLE], 0)
    amount = available if amount_minor is None else amount_minor
    minimum = payout_minimum_minor(currency)
    if amount <= 0 and amount_minor is not None:
        raise ValidationError(_("Enter an amount above zero."))
    if amount <= 0 or amount > available:
        raise ValidationError(
            _("You can request at most your available balance, %(available)s.")
            % {"available": _money(max(available, 0), currency)}
        )
    if amount < minimum:
        raise ValidationError(
            _("The smallest payout in %(currency)s is %(minimum)s.")
            % {"currency": currency, "minimum": _money(minimum, currency)}
        )
    payout = Payout.objects.create(
        creator=creator,
        currency=currency,
        amount_minor=amount,
        rail=account.rail,
        origin=origin,
        stripe_account_id=account.stripe_account_id if account.rail == PayoutRail.STRIPE else "",
        bank_holder_name=account.bank_holder_name if account.rail == PayoutRail.BANK else "",
        bank_iban_last4=account.bank_iban_last4 if account.rail == PayoutRail.BANK else "",
    )
    _post_move(
        payout,
        key=f"payout_reserve:{payout.pk}",
        kind=LedgerTransactionKind.PAYOUT_RESERVE,
        credit=LedgerAccountKind.CREATOR_IN_FLIGHT,
        debit=LedgerAccountKind.CREATOR_AVAILABLE,
        amount_minor=amount,
    )
    audit_record(
        actor=actor, action="payouts.payout.requested", target=payout, after=_snapshot(payout)
    )
    _notify_creator(payout, "payout_requested")
    return payout


# --- approving and rejecting ----------------------------------------------------------------


def _require_staff(actor: User) -> None:
    if not (actor.is_authenticated and actor.is_staff and actor.is_active):
        raise PermissionDenied(_("Only staff can do this."))


def _enqueue_send(payout: Payout) -> None:
    """Send the payout from a worker once this transaction commits; if the broker is down,
    the send sweeper (beat) finds the approved payout."""
    payout_id = payout.pk

    def send() -> None:
        from payouts.tasks import payout_send as task

        try:
            task.delay(payout_id)
        except Exception:  # noqa: BLE001 - the broker is down: the sweeper sends it later
            logger.warning("Could not enqueue payout %s; the sweeper will send it.", payout_id)

    transaction.on_commit(send)


@transaction.atomic
def payout_approve(*, payout: Payout, actor: User) -> Payout:
    """Approve a requested payout. Above the second-approval amount the first approval only
    records itself and a second, different staff member must approve as well."""
    _require_staff(actor)
    payout = Payout.objects.select_for_update().select_related("creator").get(pk=payout.pk)
    if payout.status != PayoutStatus.REQUESTED:
        raise ValidationError(
            _("This payout is %(status)s; only a payout awaiting approval can be approved.")
            % {"status": payout.get_status_display().lower()}
        )
    if payout.creator.user_id == actor.pk:
        raise PermissionDenied(_("You cannot approve your own payout."))
    if payout.creator.is_suspended:
        raise ValidationError(_("The creator is suspended; their payouts are held."))
    before = _snapshot(payout)
    now = timezone.now()
    if payout.first_approved_by_id is None:
        payout.first_approved_by = actor
        payout.first_approved_at = now
        action = "payouts.payout.first_approved"
    elif payout.first_approved_by_id == actor.pk:
        raise ValidationError(
            _("You already approved this payout; a second, different admin must approve it.")
        )
    else:
        payout.second_approved_by = actor
        payout.second_approved_at = now
        action = "payouts.payout.second_approved"
    approved = payout.second_approved_by_id is not None or not payout_needs_second_approval(payout)
    if approved:
        payout.status = PayoutStatus.APPROVED
        payout.approved_at = now
        action = "payouts.payout.approved"
    payout.save()
    audit_record(actor=actor, action=action, target=payout, before=before, after=_snapshot(payout))
    if approved:
        _notify_creator(payout, "payout_approved")
        if payout.rail == PayoutRail.STRIPE:
            _enqueue_send(payout)
    return payout


@transaction.atomic
def payout_reject(*, payout: Payout, actor: User, reason: str) -> Payout:
    """Reject a payout that has not gone out yet; its amount returns to available."""
    _require_staff(actor)
    reason = _required_text(reason, _("Give a reason; the creator will read it."))
    payout = Payout.objects.select_for_update().get(pk=payout.pk)
    rejectable = payout.status == PayoutStatus.REQUESTED or (
        payout.status == PayoutStatus.APPROVED
        and (payout.rail == PayoutRail.BANK and payout.bank_exported_at is None)
    )
    if not rejectable:
        raise ValidationError(
            _("This payout is %(status)s and can no longer be rejected.")
            % {"status": payout.get_status_display().lower()}
        )
    before = _snapshot(payout)
    payout.status = PayoutStatus.REJECTED
    payout.rejected_by = actor
    payout.rejected_at = timezone.now()
    payout.rejection_reason = reason
    payout.save()
    _release(payout)
    audit_record(
        actor=actor,
        action="payouts.payout.rejected",
        target=payout,
        before=before,
        after={**_snapshot(payout), "reason": reason},
    )
    _notify_creator(payout, "payout_rejected")
    return payout


def _release(payout: Payout) -> None:
    _post_move(
        payout,
        key=f"payout_release:{payout.pk}",
        kind=LedgerTransactionKind.PAYOUT_RELEASE,
        credit=LedgerAccountKind.CREATOR_AVAILABLE,
        debit=LedgerAccountKind.CREATOR_IN_FLIGHT,
        amount_minor=payout.amount_minor,
    )


def _mark_sent(payout: Payout) -> None:
    _post_move(
        payout,
        key=f"payout_sent:{payout.pk}",
        kind=LedgerTransactionKind.PAYOUT_SENT,
        credit=LedgerAccountKind.CREATOR_PAID_OUT,
        debit=LedgerAccountKind.CREATOR_IN_FLIGHT,
        amount_minor=payout.amount_minor,
    )


def _fail_unsent(payout: Payout, *, code: str, reason: str, actor: User | None = None) -> None:
    """Fail a payout whose money never left: it returns to available (locked payout)."""
    before = _snapshot(payout)
    payout.status = PayoutStatus.FAILED
    payout.failed_at = timezone.now()
    payout.failure_code = code[:100]
    payout.failure_reason = reason
    payout.sending_since = None
    payout.save()
    _release(payout)
    audit_record(
        actor=actor,
        action="payouts.payout.failed",
        target=payout,
        before=before,
        after=_snapshot(payout),
    )
    _notify_creator(payout, "payout_failed")


# --- sending through Stripe -----------------------------------------------------------------


class SendOutcome(enum.StrEnum):
    SENT = "sent"  # transfer made (now or before) and recorded
    FAILED = "failed"  # definitively refused; the money is back in available
    RETRY = "retry"  # temporary trouble; try again after `retry_in`
    SKIPPED = "skipped"  # not ours to send now (other status, another worker's lease, held)


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    retry_in: int = 0
    detail: str = ""


def payout_retry_delay(attempts: int) -> int:
    """Doubling delays from PAYOUT_RETRY_FIRST_SECONDS up to PAYOUT_RETRY_MAX_SECONDS."""
    first, largest = settings.PAYOUT_RETRY_FIRST_SECONDS, settings.PAYOUT_RETRY_MAX_SECONDS
    return int(min(largest, first * 2 ** max(0, attempts - 1)))


def _claim(payout_id: int) -> Payout | None:
    """Take the payout for sending: approved and due, or a dead worker's lease expired."""
    now = timezone.now()
    with transaction.atomic():
        payout = (
            Payout.objects.select_for_update(of=("self",))
            .select_related("creator")
            .filter(pk=payout_id, rail=PayoutRail.STRIPE)
            .first()
        )
        if payout is None or payout.creator.is_suspended:
            return None
        lease = timedelta(seconds=settings.PAYOUT_SEND_LEASE_SECONDS)
        claimable = (
            payout.status == PayoutStatus.APPROVED
            or (
                payout.status == PayoutStatus.SENDING
                and (payout.sending_since is None or payout.sending_since < now - lease)
            )
            or (payout.status == PayoutStatus.SENT and not payout.stripe_payout_id)
        )
        if not claimable:
            return None
        if payout.status != PayoutStatus.SENT:
            payout.status = PayoutStatus.SENDING
            payout.sending_since = now
            payout.send_attempts += 1
            payout.next_attempt_at = None
            payout.save(
                update_fields=[
                    "status",
                    "sending_since",
                    "send_attempts",
                    "next_attempt_at",
                    "updated_at",
                ]
            )
    return payout


def _metadata(obj: stripe.StripeObject, key: str) -> str | None:
    """One metadata value of a Stripe object (metadata is a plain mapping of strings)."""
    raw = getattr(obj, "metadata", None)
    metadata: dict[str, Any] = raw.to_dict() if isinstance(raw, stripe.StripeObject) else {}
    value = metadata.get(key)
    return None if value is None else str(value)


def _find_transfer(client: stripe.StripeClient, payout: Payout) -> stripe.Transfer | None:
    """The transfer already made for this payout, if any (looked up by its group)."""
    transfers = client.v1.transfers.list(
        params={"transfer_group": payout.transfer_group, "limit": 10}
    )
    found = [t for t in transfers.data if _metadata(t, "payout_id") == str(payout.pk)]
    if len(found) > 1:
        logger.error("Payout %s has %d transfers; reconciliation flags it.", payout.pk, len(found))
    return min(found, key=lambda t: t.created) if found else None


def _retry_later(payout_id: int, error: str, *, nothing_made: bool = False) -> SendResult:
    """Back to approved with a later due time; `nothing_made`: Stripe answered definitively
    that no transfer was made, so the next attempt may use a fresh idempotency key."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status != PayoutStatus.SENDING:
            return SendResult(SendOutcome.SKIPPED, detail=payout.status)
        if nothing_made:
            payout.transfer_key_generation += 1
        delay = payout_retry_delay(payout.send_attempts)
        payout.status = PayoutStatus.APPROVED
        payout.sending_since = None
        payout.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        payout.last_error = error[:2000]
        payout.save()
    return SendResult(SendOutcome.RETRY, retry_in=delay, detail=error)


def _error_text(error: stripe.StripeError) -> str:
    code = getattr(error, "code", None) or ""
    return f"{type(error).__name__} {error.http_status or ''} {code}: {error.user_message or error}"


def _definitive(error: stripe.StripeError) -> bool:
    """A 4xx refusal that will not change by retrying the same request."""
    if isinstance(error, stripe.InvalidRequestError):
        code = error.code or ""
        return code not in TEMPORARY_TRANSFER_CODES and code != "idempotency_error"
    return isinstance(error, stripe.PermissionError)


def _stripe_reason(error: stripe.StripeError) -> str:
    """What to tell the creator about a refusal from Stripe, in their words."""
    code = getattr(error, "code", None) or ""
    if code in {"insufficient_capabilities_for_transfer", "transfers_not_allowed"}:
        return _(
            "Your Stripe account cannot receive transfers yet. Finish setting it up in Stripe."
        )
    if code in {"account_invalid", "resource_missing", "account_closed"}:
        return _("Your Stripe account is no longer usable. Connect Stripe again.")
    if code == "payouts_not_allowed":
        return _("Stripe has paused payouts to your account. Check your Stripe account.")
    return _("Stripe refused the payout: %(message)s") % {
        "message": error.user_message or str(error)
    }


def payout_send(*, payout_id: int, client: stripe.StripeClient | None = None) -> SendResult:
    """Send one approved Stripe payout: at most one transfer, whatever fails when."""
    payout = _claim(payout_id)
    if payout is None:
        return SendResult(SendOutcome.SKIPPED)
    client = client or stripe_client()
    if payout.status == PayoutStatus.SENT:  # the transfer is done; only the bank payout is left
        _connected_payout_create(client, payout)
        return SendResult(SendOutcome.SENT)

    transfer: stripe.Transfer | None = None
    try:
        if payout.send_attempts > 1:
            # An earlier attempt may have made the transfer and lost the answer (or the worker
            # died); Stripe may also have forgotten the idempotency key by now.
            transfer = _find_transfer(client, payout)
        if transfer is None:
            transfer = client.v1.transfers.create(
                params={
                    "amount": payout.amount_minor,
                    "currency": payout.currency.lower(),
                    "destination": payout.stripe_account_id,
                    "transfer_group": payout.transfer_group,
                    "description": f"Connect payout {payout.pk}",
                    "metadata": {"payout_id": str(payout.pk)},
                },
                options={"idempotency_key": payout.transfer_idempotency_key},
            )
    except stripe.StripeError as error:
        if _definitive(error):
            with transaction.atomic():
                locked = Payout.objects.select_for_update().get(pk=payout.pk)
                if locked.status != PayoutStatus.SENDING:
                    return SendResult(SendOutcome.SKIPPED, detail=locked.status)
                locked.last_error = _error_text(error)[:2000]
                _fail_unsent(
                    locked, code=error.code or "stripe_error", reason=_stripe_reason(error)
                )
            return SendResult(SendOutcome.FAILED, detail=_error_text(error))
        if isinstance(error, stripe.InvalidRequestError) and error.code == "balance_insufficient":
            # A definite "no transfer was made": retry later, when the balance is topped up.
            return _retry_later(payout.pk, _error_text(error), nothing_made=True)
        # Ambiguous (5xx, timeout, connection) or temporary: was the transfer made anyway?
        try:
            transfer = _find_transfer(client, payout)
        except stripe.StripeError:
            transfer = None
        if transfer is None:
            return _retry_later(payout.pk, _error_text(error))

    _record_transfer(payout.pk, transfer)
    payout.refresh_from_db()
    _connected_payout_create(client, payout)
    return SendResult(SendOutcome.SENT, detail=transfer.id)


@transaction.atomic
def _record_transfer(payout_id: int, transfer: stripe.Transfer) -> None:
    payout = Payout.objects.select_for_update().get(pk=payout_id)
    if payout.status not in (PayoutStatus.SENDING, PayoutStatus.APPROVED):
        return
    if transfer.amount != payout.amount_minor or transfer.currency.upper() != payout.currency:
        # Never seen in practice; reconciliation would flag it. Keep the payout in flight.
        raise RuntimeError(f"Transfer {transfer.id} does not match payout {payout.pk}.")
    before = _snapshot(payout)
    payout.status = PayoutStatus.SENT
    payout.stripe_transfer_id = transfer.id
    payout.sent_at = timezone.now()
    payout.sending_since = None
    payout.last_error = ""
    payout.save()
    _mark_sent(payout)
    audit_record(
        actor=None,
        action="payouts.payout.sent",
        target=payout,
        before=before,
        after=_snapshot(payout),
    )
    _notify_creator(payout, "payout_sent")


def _connected_payout_create(client: stripe.StripeClient, payout: Payout) -> None:
    """Pay the transferred amount out of the connected account to the creator's bank.

    Failures here leave the payout sent (the money is in the creator's Stripe balance); the
    send sweeper tries again.
    """
    try:
        stripe_payout = client.v1.payouts.create(
            params={
                "amount": payout.amount_minor,
                "currency": payout.currency.lower(),
                "description": f"Connect payout {payout.pk}",
                "metadata": {"payout_id": str(payout.pk)},
            },
            options={
                "stripe_account": payout.stripe_account_id,
                "idempotency_key": f"connect-payout-{payout.pk}-bank",
            },
        )
    except stripe.StripeError as error:
        Payout.objects.filter(pk=payout.pk).update(
            last_error=_error_text(error)[:2000], updated_at=timezone.now()
        )
        logger.warning("Payout %s: bank payout not created yet: %s", payout.pk, error)
        return
    Payout.objects.filter(pk=payout.pk, stripe_payout_id="").update(
        stripe_payout_id=stripe_payout.id, last_error="", updated_at=timezone.now()
    )


def payouts_due_for_sending(limit: int = 500) -> list[int]:
    """Stripe payouts a worker should (re)try now: approved and due, a dead worker's lease,
    or sent without their bank payout. For the sweeper."""
    now = timezone.now()
    lease = now - timedelta(seconds=settings.PAYOUT_SEND_LEASE_SECONDS)
    return list(
        Payout.objects.filter(rail=PayoutRail.STRIPE, creator__suspended_at__isnull=True)
        .filter(
            Q(status=PayoutStatus.APPROVED)
            & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            | Q(status=PayoutStatus.SENDING, sending_since__lt=lease)
            | Q(
                status=PayoutStatus.SENT,
                stripe_payout_id="",
                sent_at__lt=now - timedelta(minutes=1),
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- what Stripe tells us afterwards (webhooks re-fetch the objects) --------------------------


@transaction.atomic
def payout_apply_transfer_reversal(*, transfer: stripe.Transfer) -> Payout | None:
    """Bring our payout in line with the transfer's reversed amount, as Stripe reports it now.

    The reversed money returns to the creator's available balance; a fully reversed transfer
    fails the payout. Safe to call any number of times, in any order.
    """
    payout = Payout.objects.select_for_update().filter(stripe_transfer_id=transfer.id).first()
    if payout is None:
        return None
    reversed_total = min(int(transfer.amount_reversed or 0), payout.amount_minor)
    delta = reversed_total - payout.reversed_minor
    if delta <= 0:
        return payout
    before = _snapshot(payout)
    _post_move(
        payout,
        key=f"payout_reversed:{payout.pk}:{reversed_total}",
        kind=LedgerTransactionKind.PAYOUT_REVERSED,
        credit=LedgerAccountKind.CREATOR_AVAILABLE,
        debit=LedgerAccountKind.CREATOR_PAID_OUT,
        amount_minor=delta,
    )
    payout.reversed_minor = reversed_total
    if reversed_total == payout.amount_minor and payout.status != PayoutStatus.FAILED:
        payout.status = PayoutStatus.FAILED
        payout.failed_at = timezone.now()
        if not payout.failure_reason:
            payout.failure_code = "transfer_reversed"
            payout.failure_reason = _(
                "The transfer to your Stripe account was reversed; the money is back in your "
                "available balance."
            )
        _notify_creator(payout, "payout_failed")
    payout.save()
    audit_record(
        actor=None,
        action="payouts.payout.reversed",
        target=payout,
        before=before,
        after=_snapshot(payout),
    )
    return payout


def payout_apply_connected_payout(
    *, stripe_payout: stripe.Payout, account_id: str, client: stripe.StripeClient | None = None
) -> Payout | None:
    """A connected account's payout to the creator's bank is paid or failed (re-fetched).

    Paid: our payout is paid. Failed: the bank refused it, so we take the money back from the
    connected account (a transfer reversal) and return it to the creator's available balance,
    with the bank's reason, so they can fix their details and ask again.
    """
    payout_id = _metadata(stripe_payout, "payout_id") or ""
    queryset = Payout.objects.filter(stripe_account_id=account_id, rail=PayoutRail.STRIPE)
    payout = queryset.filter(stripe_payout_id=stripe_payout.id).first() or (
        queryset.filter(pk=int(payout_id)).first() if payout_id.isdigit() else None
    )
    if payout is None:
        return None
    if stripe_payout.status == "paid":
        with transaction.atomic():
            locked = Payout.objects.select_for_update().get(pk=payout.pk)
            if locked.status == PayoutStatus.SENT:
                before = _snapshot(locked)
                locked.status = PayoutStatus.PAID
                locked.paid_at = timezone.now()
                locked.stripe_payout_id = locked.stripe_payout_id or stripe_payout.id
                locked.save()
                audit_record(
                    actor=None,
                    action="payouts.payout.paid",
                    target=locked,
                    before=before,
                    after=_snapshot(locked),
                )
                _notify_creator(locked, "payout_paid")
            return locked
    if stripe_payout.status in ("failed", "canceled") and payout.stripe_transfer_id:
        client = client or stripe_client()
        with transaction.atomic():
            locked = Payout.objects.select_for_update().get(pk=payout.pk)
            if locked.status in (PayoutStatus.SENT, PayoutStatus.PAID):
                locked.failure_code = (stripe_payout.failure_code or "bank_payout_failed")[:100]
                locked.failure_reason = _(
                    "Your bank returned the payout (%(reason)s). The money is back in your "
                    "available balance; check your bank details in Stripe and ask again."
                ) % {"reason": stripe_payout.failure_message or locked.failure_code}
                locked.save(update_fields=["failure_code", "failure_reason", "updated_at"])
        remaining = payout.amount_minor - payout.reversed_minor
        if remaining > 0:
            # Idempotent per payout: a redelivered event asks for the same reversal.
            client.v1.transfers.reversals.create(
                payout.stripe_transfer_id,
                params={"amount": remaining, "metadata": {"payout_id": str(payout.pk)}},
                options={"idempotency_key": f"connect-payout-{payout.pk}-reversal"},
            )
        transfer = client.v1.transfers.retrieve(payout.stripe_transfer_id)
        return payout_apply_transfer_reversal(transfer=transfer)
    return payout


# --- the bank rail --------------------------------------------------------------------------


def _required_text(value: str | None, message: str) -> str:
    """The stripped text, or a ValidationError with `message` when it is blank."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(message)
    return text


def _lock_exported_bank_payout(payout: Payout, not_approved_message: str) -> Payout:
    """Lock a bank payout that staff may settle: approved and already in a SEPA file."""
    payout = Payout.objects.select_for_update().get(pk=payout.pk)
    if payout.rail != PayoutRail.BANK or payout.status != PayoutStatus.APPROVED:
        raise ValidationError(not_approved_message)
    if payout.bank_exported_at is None:
        raise ValidationError(_("Put the payout in a SEPA file first."))
    return payout


@transaction.atomic
def payout_bank_mark_exported(*, payouts: list[Payout], actor: User) -> None:
    """Record that these approved bank payouts went into a SEPA file staff downloaded."""
    _require_staff(actor)
    now = timezone.now()
    for payout in Payout.objects.select_for_update().filter(
        pk__in=[p.pk for p in payouts], rail=PayoutRail.BANK, status=PayoutStatus.APPROVED
    ):
        if payout.bank_exported_at is None:
            payout.bank_exported_at = now
            payout.save(update_fields=["bank_exported_at", "updated_at"])
            audit_record(
                actor=actor,
                action="payouts.payout.bank_exported",
                target=payout,
                before={"bank_exported_at": None},
                after={"bank_exported_at": now.isoformat()},
            )


@transaction.atomic
def payout_bank_mark_paid(*, payout: Payout, actor: User, reference: str) -> Payout:
    """The bank executed the transfer: the payout is paid, with the bank's reference."""
    _require_staff(actor)
    reference = _required_text(reference, _("Enter the bank's reference for this transfer."))
    payout = _lock_exported_bank_payout(
        payout, _("Only an approved bank payout can be marked paid.")
    )
    before = _snapshot(payout)
    now = timezone.now()
    payout.status = PayoutStatus.PAID
    payout.bank_reference = reference[:140]
    payout.sent_at = payout.sent_at or now
    payout.paid_at = now
    payout.save()
    _mark_sent(payout)
    audit_record(
        actor=actor,
        action="payouts.payout.paid",
        target=payout,
        before=before,
        after=_snapshot(payout),
    )
    _notify_creator(payout, "payout_paid")
    return payout


@transaction.atomic
def payout_bank_mark_failed(*, payout: Payout, actor: User, reason: str) -> Payout:
    """The bank refused the transfer: the payout fails and its amount returns to available."""
    _require_staff(actor)
    reason = _required_text(reason, _("Give a reason; the creator will read it."))
    payout = _lock_exported_bank_payout(
        payout, _("Only an approved bank payout can be marked failed.")
    )
    _fail_unsent(payout, code="bank_refused", reason=reason, actor=actor)
    return payout


# --- the automatic payout run -----------------------------------------------------------------


def payouts_automatic_run() -> int:
    """Request a payout for every creator with a ready account, no open payout in the
    currency and an available balance at or above the currency's minimum. Returns how many.
    A deleted account's payout account is never ready: its IBAN is erased, and its Stripe
    account is being closed.

    One query finds the candidates (balances join accounts); each request is its own
    transaction, so one creator's problem does not stop the run, and a second run the same
    day finds nothing left to do (the balance is reserved).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.creator_id, a.currency, b.balance_minor
            FROM payouts_ledgeraccount a
            JOIN payouts_ledgerbalance b ON b.account_id = a.id
            JOIN payouts_payoutaccount pa ON pa.creator_id = a.creator_id
            JOIN connect_creatorprofile c ON c.id = a.creator_id
            WHERE a.kind = %s AND b.balance_minor > 0 AND c.suspended_at IS NULL
              AND (
                (pa.rail = 'stripe' AND pa.stripe_payouts_enabled AND pa.stripe_transfers_active
                 AND pa.stripe_account_id <> '' AND pa.stripe_close_requested_at IS NULL)
                OR (pa.rail = 'bank' AND pa.bank_iban_encrypted <> '' AND a.currency = ANY(%s))
              )
              AND NOT EXISTS (
                SELECT 1 FROM payouts_payout p
                WHERE p.creator_id = a.creator_id AND p.currency = a.currency
                  AND p.status IN ('requested', 'approved', 'sending')
              )
            ORDER BY a.creator_id, a.currency
            """,
            [LedgerAccountKind.CREATOR_AVAILABLE, list(settings.PAYOUT_BANK_CURRENCIES)],
        )
        candidates = cursor.fetchall()
    made = 0
    for creator_id, currency, balance in candidates:
        if balance < payout_minimum_minor(currency):
            continue
        try:
            payout_request(
                creator=CreatorProfile(pk=creator_id),
                currency=currency,
                origin=PayoutOrigin.AUTOMATIC,
            )
        except ValidationError as error:
            logger.info("Automatic payout for creator %s skipped: %s", creator_id, error)
            continue
        made += 1
    return made
