"""The double-entry, append-only ledger: accounts, transactions, entries and balance rollups.

Only `payouts.ledger` writes these tables. PostgreSQL itself guards the invariants (see the
migration `0001_ledger`): the entries of a transaction sum to zero per currency (a deferred
constraint trigger checked at COMMIT), entries and transactions are never updated or deleted,
and an entry's currency is its account's (a composite foreign key).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LedgerAccountKind(models.TextChoices):
    """What an account holds; the owner it needs follows from the kind (see OWNER_OF_KIND)."""

    CREATOR_PENDING = "creator_pending", _("Creator: pending")
    CREATOR_AVAILABLE = "creator_available", _("Creator: available")
    CREATOR_IN_FLIGHT = "creator_in_flight", _("Creator: payout in flight")
    CREATOR_PAID_OUT = "creator_paid_out", _("Creator: paid out")
    BRAND_COMMISSION_OWED = "brand_commission_owed", _("Brand: commission owed")
    PLATFORM_CLEARING = "platform_clearing", _("Platform: clearing")


CREATOR_KINDS: frozenset[str] = frozenset(
    {
        LedgerAccountKind.CREATOR_PENDING,
        LedgerAccountKind.CREATOR_AVAILABLE,
        LedgerAccountKind.CREATOR_IN_FLIGHT,
        LedgerAccountKind.CREATOR_PAID_OUT,
    }
)
BRAND_KINDS: frozenset[str] = frozenset({LedgerAccountKind.BRAND_COMMISSION_OWED})
PLATFORM_KINDS: frozenset[str] = frozenset({LedgerAccountKind.PLATFORM_CLEARING})


class LedgerTransactionKind(models.TextChoices):
    """Why money moved; the posting service stores it, reports group by it."""

    COMMISSION = "commission", _("Commission")
    COMMISSION_ADJUSTMENT = "commission_adjustment", _("Commission adjustment")
    MATURATION = "maturation", _("Maturation")
    CLAWBACK = "clawback", _("Clawback")
    PAYOUT_RESERVE = "payout_reserve", _("Payout reserve")
    PAYOUT_RELEASE = "payout_release", _("Payout release")
    PAYOUT_SENT = "payout_sent", _("Payout sent")
    PAYOUT_REVERSED = "payout_reversed", _("Payout reversed")
    CORRECTION = "correction", _("Correction")


class LedgerAccount(models.Model):
    """One balance-carrying bucket: a kind, a currency and its owner (creator, brand or none).

    At most one account exists per (kind, currency, owner): the unique constraint treats
    NULL owners as equal so that platform accounts are unique per currency too.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=LedgerAccountKind.choices)
    currency = models.CharField(_("currency"), max_length=3)
    creator = models.ForeignKey(
        "connect.CreatorProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    brand = models.ForeignKey(
        "campaigns.Brand",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["kind", "currency", "creator", "brand"],
                nulls_distinct=False,
                name="ledger_account_unique_per_owner",
            ),
            # The composite foreign key from entries, (account_id, currency), targets this.
            models.UniqueConstraint(fields=["id", "currency"], name="ledger_account_id_currency"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="ledger_account_currency_iso"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=sorted(CREATOR_KINDS), creator__isnull=False, brand__isnull=True)
                    | Q(kind__in=sorted(BRAND_KINDS), creator__isnull=True, brand__isnull=False)
                    | Q(kind__in=sorted(PLATFORM_KINDS), creator__isnull=True, brand__isnull=True)
                ),
                name="ledger_account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.creator_id or self.brand_id or "platform"
        return f"{self.kind}:{self.currency}:{owner}"


class LedgerTransaction(models.Model):
    """One money movement: a set of entries that sum to zero per currency.

    `idempotency_key` makes every posting safe to repeat: the same key never posts twice.
    `commission_id` and `payout_id` are plain references (no foreign keys) so that the ledger
    stays append-only whatever happens to the rows it refers to.
    """

    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=LedgerTransactionKind.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    commission_id = models.BigIntegerField(null=True, blank=True)
    payout_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["commission_id"],
                name="ledger_tx_commission_idx",
                condition=Q(commission_id__isnull=False),
            ),
            models.Index(
                fields=["payout_id"],
                name="ledger_tx_payout_idx",
                condition=Q(payout_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key}"


class LedgerEntry(models.Model):
    """One signed amount on one account within a transaction; never updated or deleted.

    Positive `amount_minor` is a credit, negative a debit (see `payouts.ledger`). `currency`
    repeats the account's currency so that the per-currency balance check needs no join; the
    composite foreign key (account_id, currency) -> account (id, currency) keeps them equal.
    Django's own single-column constraint on `account` is left out for that reason.
    """

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="entries", db_constraint=False
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=~Q(amount_minor=0), name="ledger_entry_amount_not_zero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.currency} on {self.account_id}"


class LedgerBalance(models.Model):
    """The maintained rollup of an account: the sum of its entries' amounts.

    Written only by the posting service, in the same database transaction as the entries;
    `manage.py check_ledger` verifies that it equals the sum of the entries.
    """

    account = models.OneToOneField(
        LedgerAccount, on_delete=models.PROTECT, primary_key=True, related_name="balance"
    )
    balance_minor = models.BigIntegerField(_("balance (minor units)"), default=0)

    class Meta:
        verbose_name = _("ledger balance")
        verbose_name_plural = _("ledger balances")

    def __str__(self) -> str:
        return f"{self.balance_minor} on {self.account_id}"
