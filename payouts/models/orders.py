"""Orders and commissions: what processing made of a brand's order events.

`Order` is one brand order reduced from all of its events (docs/earnings-rules.md), with its
attribution. `Commission` is what one collaboration earns from one order; an order has at
most one commission with a non-zero amount (its current attribution), and keeps the earlier
ones, at zero, if its attribution ever moved. Both are derived state: processing rewrites
them from the stored events, and `recompute_earnings` rebuilds them from scratch to compare.

The money itself lives in the ledger. A commission records how much of it the ledger holds
on its behalf (`pending_posted_minor`, `available_posted_minor`), written in the same
database transaction as the ledger postings, so that the next change posts exactly the
difference; `check_ledger` verifies both against the ledger's entries.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import Brand, Campaign, CampaignTerms, Collaboration
from connect.models import CreatorProfile


def _copied_reference(model: type[models.Model]) -> models.ForeignKey[Any, Any]:
    """A nullable reference copied from elsewhere for reading: no index, no constraint."""
    return models.ForeignKey(
        model,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )


class AttributionVia(models.TextChoices):
    CLICK = "click", _("Click")
    CODE = "code", _("Code")


class Order(models.Model):
    """One brand order, as its events reduce (see `payouts.rules.reducer.OrderState`)."""

    # Foreign keys without an index of their own where a composite index already leads
    # with them or nothing looks rows up by them: every index costs each write. The
    # attribution columns below are copies of what the commission rows hold (and are
    # rewritten from the events on every settle), so they carry no database constraint:
    # each would cost a key-share lock on a hot campaign or creator row per order.
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", db_index=False)
    order_id = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, blank=True, default="")
    paid_event_id = models.CharField(max_length=100, blank=True, default="")
    paid_amount_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    net_amount_minor = models.BigIntegerField(default=0)
    over_refunded_minor = models.BigIntegerField(default=0)
    cancelled = models.BooleanField(default=False)
    awaiting_paid = models.BooleanField(default=False)
    conflicts = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    error = models.CharField(max_length=32, blank=True, default="")
    occurred_at = models.DateTimeField(null=True, blank=True)
    paid_received_at = models.DateTimeField(null=True, blank=True)
    # Attribution: a collaboration, or the reason there is none (blank while awaiting).
    collaboration = _copied_reference(Collaboration)
    campaign = _copied_reference(Campaign)
    creator = _copied_reference(CreatorProfile)
    via = models.CharField(max_length=8, choices=AttributionVia.choices, blank=True, default="")
    terms = _copied_reference(CampaignTerms)
    unattributed_reason = models.CharField(max_length=32, blank=True, default="")
    unattributed_params = models.JSONField(default=dict, blank=True)
    commission_minor = models.BigIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint("brand", "order_id", name="payouts_order_brand_order_uniq"),
            models.CheckConstraint(
                condition=Q(net_amount_minor__gte=0, commission_minor__gte=0),
                name="payouts_order_amounts_not_negative",
            ),
        ]
        # Beyond the unique (brand, order id), only a partial index of unattributed orders
        # (for the brand's integration health): processing rewrites every order it settles,
        # and with no indexed column changing those updates stay HOT (in-page, no index
        # writes; see the fillfactor in migration 0003). An order's unattributed reason is
        # set once and seldom changes.
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["brand", "-id"],
                name="order_unattributed_idx",
                condition=~Q(unattributed_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} ({self.brand_id})"


class CommissionStatus(models.TextChoices):
    """Where a commission stands; derived from its amount and maturation."""

    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    VOID = "void", _("Void")


class BudgetNote(models.TextChoices):
    NONE = "", _("Within budget")
    LIMITED = "budget_limited", _("Limited by the campaign budget")
    EXHAUSTED = "budget_exhausted", _("Budget exhausted")


class Commission(models.Model):
    """What one collaboration earns from one order.

    `amount_minor` is the commission now due by the rules (after the campaign budget);
    `uncapped_minor` what the rules give without a budget. While `matured` is false the
    money sits in the creator's pending account; maturation (when `payable_at` has passed)
    moves it to available, and later changes post adjustments or clawbacks there.

    Budget consumption (see docs/earnings-rules.md, "Campaign budgets"): orders consume a
    campaign's budget in the order of (`paid_received_at`, order id), each taking its
    commission on the paid amount (`gross_minor`) or what is left (`budget_share_minor`).
    """

    # Each foreign key leads a composite index below (or the unique constraint), so none
    # needs its own.
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="commissions", db_index=False
    )
    collaboration = models.ForeignKey(
        Collaboration, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The collaboration's campaign, creator and brand, copied for the indexes that serve
    # dashboards and the API; the foreign key to the collaboration guards them, so they
    # skip the per-row key-share lock on hot campaign, creator and brand rows.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    creator = models.ForeignKey(
        CreatorProfile,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(default=0)
    uncapped_minor = models.BigIntegerField(default=0)
    gross_minor = models.BigIntegerField(default=0)
    budget_share_minor = models.BigIntegerField(default=0)
    budget_note = models.CharField(
        max_length=20, choices=BudgetNote.choices, blank=True, default=""
    )
    net_amount_minor = models.BigIntegerField(default=0)
    paid_received_at = models.DateTimeField(null=True, blank=True)
    # The brand's order id again, compared by code point (COLLATE "C") as the budget
    # consumption order needs: the same order as Python's string comparison.
    order_ref = models.CharField(max_length=100, db_collation="C")
    payable_at = models.DateTimeField(null=True, blank=True)
    matured = models.BooleanField(default=False)
    approved_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=CommissionStatus.choices, default=CommissionStatus.PENDING
    )
    pending_posted_minor = models.BigIntegerField(default=0)
    available_posted_minor = models.BigIntegerField(default=0)
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                "order", "collaboration", name="payouts_commission_order_collab_uniq"
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0, budget_share_minor__gte=0, gross_minor__gte=0),
                name="payouts_commission_amounts_not_negative",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["creator", "-updated_at"], name="commission_creator_upd_idx"),
            models.Index(fields=["brand", "-updated_at"], name="commission_brand_upd_idx"),
            models.Index(fields=["campaign", "status"], name="commission_campaign_status_idx"),
            # The maturation sweep: what is still in its hold, by when it becomes payable.
            models.Index(
                fields=["payable_at"],
                name="commission_maturing_idx",
                condition=Q(matured=False, amount_minor__gt=0),
            ),
            # Budget consumption order within a campaign.
            models.Index(
                fields=["campaign", "paid_received_at", "order_ref"],
                name="commission_budget_order_idx",
                condition=Q(gross_minor__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.currency} on {self.order_ref}"


__all__ = [
    "AttributionVia",
    "BudgetNote",
    "Commission",
    "CommissionStatus",
    "Order",
]
