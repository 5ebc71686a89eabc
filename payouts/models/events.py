"""Order events as brands sent them: the raw input every earning is computed from.

`OrderEvent` rows are the source of truth for a recompute from scratch, so their raw
columns never change once stored (a PostgreSQL trigger refuses it, see migration 0002);
only the processing columns (`processed_at`, `outcome`, `outcome_reason`) are written
later, by the workers. Events the API refused are kept in `RejectedOrderEvent` with the
error the brand was given, so that the brand's event log can show them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from campaigns.models import Brand


class OrderEventType(models.TextChoices):
    PAID = "order.paid", _("Order paid")
    REFUNDED = "order.refunded", _("Order refunded")
    CANCELLED = "order.cancelled", _("Order cancelled")


class OrderEventSource(models.TextChoices):
    API = "api", _("API")
    CSV = "csv", _("CSV upload")


class OrderEventOutcome(models.TextChoices):
    """What processing made of an event; NULL until it is processed."""

    APPLIED = "applied", pgettext_lazy("order event outcome", "Applied")
    AWAITING_PAID = "awaiting_paid", _("Waiting for its order.paid")
    UNATTRIBUTED = "unattributed", _("Unattributed")
    REJECTED = "rejected", pgettext_lazy("order event outcome", "Rejected")
    CONFLICT = "conflict", _("Conflict")


# The columns a brand sent (plus where and when they arrived): never updated.
ORDER_EVENT_RAW_COLUMNS = (
    "brand_id",
    "event_id",
    "type",
    "order_id",
    "occurred_at",
    "amount_minor",
    "currency",
    "code",
    "click_id",
    "received_at",
    "batch_id",
    "source",
)


class OrderEvent(models.Model):
    """One accepted order event, unique per (brand, event id): resending it is a no-op.

    The amount is in minor units of `currency`; NULL exactly for `order.cancelled`. The
    currency is only known to be an ISO 4217 code here: whether it is the campaign's is
    decided when processing attributes the order to a campaign (the event names none).
    """

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=20, choices=OrderEventType.choices)
    order_id = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    amount_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    code = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    click_id = models.UUIDField(null=True, blank=True)
    received_at = models.DateTimeField()
    batch_id = models.UUIDField()
    source = models.CharField(
        max_length=8, choices=OrderEventSource.choices, default=OrderEventSource.API
    )
    # Written by processing, the only columns that may change.
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(  # noqa: DJ001
        max_length=16, choices=OrderEventOutcome.choices, null=True, blank=True
    )
    outcome_reason = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        constraints = [
            models.UniqueConstraint("brand", "event_id", name="payouts_order_event_brand_id_uniq"),
            models.CheckConstraint(
                condition=models.Q(type__in=OrderEventType.values),
                name="payouts_order_event_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(type=OrderEventType.CANCELLED, amount_minor__isnull=True)
                | (~models.Q(type=OrderEventType.CANCELLED) & models.Q(amount_minor__gt=0)),
                name="payouts_order_event_amount_by_type",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"),
                name="payouts_order_event_currency_code",
            ),
        ]
        indexes = [
            # Reducing an order reads all of its events.
            models.Index(fields=["brand", "order_id"], name="order_event_brand_order_idx"),
            # Claiming work: a batch's unprocessed events, and the sweeper's oldest ones.
            # Partial, so they stay as small as the backlog.
            models.Index(
                fields=["batch_id"],
                condition=models.Q(processed_at__isnull=True),
                name="order_event_unproc_batch_idx",
            ),
            models.Index(
                fields=["received_at"],
                condition=models.Q(processed_at__isnull=True),
                name="order_event_unproc_recv_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} (order {self.order_id})"


class RejectedOrderEvent(models.Model):
    """An event the API refused, with the error it answered, as sent (`raw` is the JSON
    value at `index` of the batch, whatever it was)."""

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()
    batch_id = models.UUIDField()
    index = models.PositiveIntegerField()
    # As sent, when it was a string (it may be the reason for the rejection: too long).
    event_id = models.TextField(blank=True, default="")
    raw = models.JSONField(null=True)
    error = models.TextField()
    # The field at fault ("event" for the event as a whole), for grouping errors.
    error_field = models.CharField(max_length=32, blank=True, default="")
    source = models.CharField(
        max_length=8, choices=OrderEventSource.choices, default=OrderEventSource.API
    )

    class Meta:
        verbose_name = _("rejected order event")
        verbose_name_plural = _("rejected order events")
        indexes = [
            models.Index(fields=["brand", "-received_at"], name="rejected_event_brand_recv_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.index} of {self.batch_id}: {self.error}"


class DuplicateOrderEvent(models.Model):
    """A copy of an event id the brand had already sent: counted, ignored, and listed in the
    brand's event log so that a retrying integration can see what happened."""

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()
    batch_id = models.UUIDField()
    event_id = models.CharField(max_length=100)
    source = models.CharField(
        max_length=8, choices=OrderEventSource.choices, default=OrderEventSource.API
    )

    class Meta:
        verbose_name = _("duplicate order event")
        verbose_name_plural = _("duplicate order events")
        indexes = [
            models.Index(fields=["brand", "-received_at"], name="duplicate_event_brand_recv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} again in {self.batch_id}"


__all__ = [
    "ORDER_EVENT_RAW_COLUMNS",
    "DuplicateOrderEvent",
    "OrderEvent",
    "OrderEventOutcome",
    "OrderEventSource",
    "OrderEventType",
    "RejectedOrderEvent",
]
