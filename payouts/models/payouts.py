"""Payouts: where a creator's money goes (their payout account), the payouts themselves, the
Stripe webhook events we have seen and the differences reconciliation found.

A payout's money moves only through the ledger (`payouts.payout_services`):

- requested: `payout_reserve` moved the amount from available to in flight;
- rejected or failed before sending: `payout_release` moved it back;
- sent (Stripe transfer made) or paid (bank rail, marked by staff): `payout_sent` moved it
  from in flight to paid out;
- failed after sending (the transfer was reversed): `payout_reversed` moved what came back
  from paid out to available.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PayoutRail(models.TextChoices):
    STRIPE = "stripe", _("Stripe")
    BANK = "bank", _("Bank transfer")


class PayoutAccount(models.Model):
    """A creator's payout details: a Stripe connected account, a bank account, or both, and
    the rail their payouts use.

    The Stripe fields mirror the connected account as last fetched from Stripe (never as
    claimed by a browser redirect). The IBAN is stored encrypted; only its last four
    characters are ever shown.
    """

    creator = models.OneToOneField(
        "connect.CreatorProfile", on_delete=models.PROTECT, related_name="payout_account"
    )
    rail = models.CharField(_("payout method"), max_length=16, choices=PayoutRail.choices)

    stripe_account_id = models.CharField(max_length=64, blank=True)
    stripe_details_submitted = models.BooleanField(default=False)
    stripe_payouts_enabled = models.BooleanField(default=False)
    stripe_transfers_active = models.BooleanField(default=False)
    stripe_requirements_due = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    stripe_disabled_reason = models.CharField(max_length=100, blank=True)
    stripe_synced_at = models.DateTimeField(null=True, blank=True)
    # Closing the connected account at Stripe once the creator has deleted their account
    # (`payouts.stripe_accounts`): asked for in the deletion's transaction, done when Stripe
    # deleted it (or no longer knows it); the last refusal or failure, for staff, until then.
    stripe_close_requested_at = models.DateTimeField(null=True, blank=True)
    stripe_closed_at = models.DateTimeField(null=True, blank=True)
    stripe_close_error = models.TextField(blank=True)

    bank_holder_name = models.CharField(_("account holder"), max_length=140, blank=True)
    bank_iban_encrypted = models.TextField(blank=True)
    bank_iban_last4 = models.CharField(max_length=4, blank=True)
    bank_bic = models.CharField(_("BIC"), max_length=11, blank=True)
    bank_country = models.CharField(max_length=2, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payout account")
        verbose_name_plural = _("payout accounts")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["stripe_account_id"],
                condition=~Q(stripe_account_id=""),
                name="payout_account_stripe_unique",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            # The daily sweep reads the few accounts still to close, never the whole table.
            models.Index(
                fields=["stripe_close_requested_at"],
                condition=Q(stripe_close_requested_at__isnull=False, stripe_closed_at__isnull=True),
                name="payout_account_close_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rail} for {self.creator_id}"

    @property
    def stripe_ready(self) -> bool:
        return bool(
            self.stripe_account_id and self.stripe_payouts_enabled and self.stripe_transfers_active
        )

    @property
    def bank_ready(self) -> bool:
        return bool(self.bank_iban_encrypted and self.bank_holder_name and self.bank_bic)

    @property
    def ready(self) -> bool:
        """Payouts can go out on the chosen rail."""
        if self.rail == PayoutRail.STRIPE:
            return self.stripe_ready
        if self.rail == PayoutRail.BANK:
            return self.bank_ready
        return False


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected")


OPEN_PAYOUT_STATUSES: frozenset[str] = frozenset(
    {PayoutStatus.REQUESTED, PayoutStatus.APPROVED, PayoutStatus.SENDING}
)


class PayoutOrigin(models.TextChoices):
    CREATOR = "creator", _("Requested by the creator")
    AUTOMATIC = "automatic", _("Automatic payout run")


class Payout(models.Model):
    """One payout of one amount in one currency to one creator, on one rail.

    `transfer_group` and `idempotency_key` derive from the id, so every attempt to send the
    payout names the same Stripe transfer.
    """

    creator = models.ForeignKey(
        "connect.CreatorProfile", on_delete=models.PROTECT, related_name="payouts"
    )
    currency = models.CharField(_("currency"), max_length=3)
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    rail = models.CharField(_("payout method"), max_length=16, choices=PayoutRail.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.REQUESTED
    )
    origin = models.CharField(
        max_length=16, choices=PayoutOrigin.choices, default=PayoutOrigin.CREATOR
    )
    requested_at = models.DateTimeField(default=timezone.now)

    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_approved_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    # Stripe rail: the destination as it was when the payout was requested.
    stripe_account_id = models.CharField(max_length=64, blank=True)
    stripe_transfer_id = models.CharField(max_length=64, blank=True)
    stripe_payout_id = models.CharField(max_length=64, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    # Bumped only after Stripe definitively made no transfer (balance_insufficient): Stripe
    # replays a key's first answer, so the next attempt needs a fresh key to succeed.
    transfer_key_generation = models.PositiveIntegerField(default=0)
    sending_since = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    reversed_minor = models.BigIntegerField(default=0)

    # Bank rail: the account as it was when the payout was requested (last four only).
    bank_holder_name = models.CharField(max_length=140, blank=True)
    bank_iban_last4 = models.CharField(max_length=4, blank=True)
    bank_exported_at = models.DateTimeField(null=True, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=140, blank=True)

    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=100, blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payout_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(second_approved_by__isnull=True)
                | ~Q(second_approved_by=models.F("first_approved_by")),
                name="payout_two_different_approvers",
            ),
            models.CheckConstraint(
                condition=Q(reversed_minor__gte=0)
                & Q(reversed_minor__lte=models.F("amount_minor")),
                name="payout_reversed_within_amount",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "requested_at"], name="payout_status_idx"),
            models.Index(fields=["creator", "-requested_at"], name="payout_creator_idx"),
        ]

    def __str__(self) -> str:
        return f"payout {self.pk} ({self.amount_minor} {self.currency}, {self.status})"

    @property
    def transfer_group(self) -> str:
        return f"payout_{self.pk}"

    @property
    def transfer_idempotency_key(self) -> str:
        return f"connect-payout-{self.pk}-transfer-{self.transfer_key_generation}"


class StripeWebhookEvent(models.Model):
    """Every Stripe event id we have handled, so a redelivered event is a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    account = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("Stripe webhook event")
        verbose_name_plural = _("Stripe webhook events")

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


class ReconciliationKind(models.TextChoices):
    MISSING_TRANSFER = "missing_transfer", _("Payout marked sent without a Stripe transfer")
    AMOUNT_MISMATCH = "amount_mismatch", _("Transfer amount or currency differs from the payout")
    DESTINATION_MISMATCH = "destination_mismatch", _("Transfer went to another account")
    DUPLICATE_TRANSFER = "duplicate_transfer", _("More than one transfer for a payout")
    UNKNOWN_TRANSFER = "unknown_transfer", _("Stripe transfer without a sent payout")
    REVERSAL_MISMATCH = "reversal_mismatch", _("Reversed amount differs from our records")


class ReconciliationDifference(models.Model):
    """One difference between Stripe's transfers and our sent payouts, open until resolved.

    The same difference found again by a later run is not recorded twice while it is open.
    """

    kind = models.CharField(max_length=32, choices=ReconciliationKind.choices)
    payout = models.ForeignKey(
        Payout,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reconciliation_differences",
    )
    stripe_transfer_id = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    expected_minor = models.BigIntegerField(null=True, blank=True)
    actual_minor = models.BigIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    found_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reconciliation difference")
        verbose_name_plural = _("reconciliation differences")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["kind", "payout", "stripe_transfer_id"],
                condition=Q(resolved_at__isnull=True),
                nulls_distinct=False,
                name="reconciliation_open_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.payout_id or self.stripe_transfer_id}"
