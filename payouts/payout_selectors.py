"""Reads for the staff payout pages: the approval queue, one payout's page, the bank rail and
the open reconciliation differences, and the risk signals staff weigh before approving.

Risk signals are computed for a whole page of payouts at once: one query per signal over the
page's creators, never one per row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from connect.models import AuditEntry
from connect.money import currency_exponent, format_money
from payouts.models import (
    Commission,
    LedgerTransaction,
    Payout,
    PayoutRail,
    PayoutStatus,
    ReconciliationDifference,
)
from payouts.payout_services import payout_minimum_minor, payout_needs_second_approval

YOUNG_ACCOUNT_DAYS = 30
REFUND_RATE_FLAG = Decimal("0.20")
SPIKE_WINDOW_DAYS = 30
SPIKE_BASELINE_DAYS = 90
SPIKE_FACTOR = 3
DELIVERED_STATUSES = (PayoutStatus.SENT, PayoutStatus.PAID)


@dataclass(frozen=True)
class PayoutQueueFilters:
    """What the approval queue shows. An empty `status` shows every status."""

    status: str = PayoutStatus.REQUESTED
    rail: str = ""
    currency: str = ""
    creator: str = ""
    amount_min: str = ""


def payout_queue(filters: PayoutQueueFilters) -> QuerySet[Payout]:
    """Payouts for staff, oldest request first, with the creator and approvers joined."""
    queryset = Payout.objects.select_related(
        "creator__user", "first_approved_by", "second_approved_by", "rejected_by"
    )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.rail:
        queryset = queryset.filter(rail=filters.rail)
    if filters.currency:
        queryset = queryset.filter(currency=filters.currency.upper())
    search = filters.creator.strip().lstrip("@")
    if search:
        queryset = queryset.filter(
            Q(creator__handle__icontains=search) | Q(creator__display_name__icontains=search)
        )
    if filters.amount_min:
        queryset = queryset.filter(_amount_at_least(queryset, filters))
    return queryset.order_by("requested_at", "pk")


def _amount_at_least(queryset: QuerySet[Payout], filters: PayoutQueueFilters) -> Q:
    """The minimum is in major units of each payout's own currency (50 means 50.00 EUR and
    50 HUF alike), so it converts per currency present."""
    if filters.currency:
        currencies = [filters.currency.upper()]
    else:
        currencies = list(queryset.order_by().values_list("currency", flat=True).distinct())
    condition = Q(pk__in=[])
    amount = Decimal(filters.amount_min)
    for currency in currencies:
        # Rounded up to the currency's smallest unit: 10.50 JPY means at least 11 JPY.
        minimum = math.ceil(amount.scaleb(currency_exponent(currency)))
        condition |= Q(currency=currency, amount_minor__gte=minimum)
    return condition


# --- risk signals -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskFlag:
    """One warning shown as a badge: a short label and the sentence behind it."""

    key: str
    label: str
    explanation: str


@dataclass
class PayoutRisk:
    """What staff should know about a payout's creator before approving it."""

    account_age_days: int
    refund_orders: int = 0
    commissioned_orders: int = 0
    recent_earnings_minor: int = 0
    monthly_average_minor: int = 0
    first_payout: bool = True
    flags: list[RiskFlag] = field(default_factory=list)

    @property
    def refund_rate(self) -> Decimal:
        if not self.commissioned_orders:
            return Decimal(0)
        return Decimal(self.refund_orders) / Decimal(self.commissioned_orders)

    @property
    def flag_keys(self) -> set[str]:
        return {flag.key for flag in self.flags}


def _refund_counts(creator_ids: set[int]) -> dict[int, tuple[int, int]]:
    """{creator id: (orders refunded or cancelled, orders commissioned)}.

    A commissioned order is one paid order currently attributed to the creator with a
    commission row for them (a commission left at zero after the attribution moved away
    does not count); it counts as refunded when its net amount fell below what was paid or
    it was cancelled.
    """
    rows = (
        Commission.objects.filter(
            creator_id__in=creator_ids,
            order__creator_id=F("creator_id"),
            order__paid_amount_minor__gt=0,
        )
        .values("creator_id")
        .annotate(
            orders=Count("order_id", distinct=True),
            refunded=Count(
                "order_id",
                distinct=True,
                filter=Q(order__cancelled=True)
                | Q(order__net_amount_minor__lt=F("order__paid_amount_minor")),
            ),
        )
    )
    return {row["creator_id"]: (row["refunded"], row["orders"]) for row in rows}


def _earnings_windows(
    creator_ids: set[int], now: dt.datetime
) -> dict[tuple[int, str], tuple[int, int]]:
    """{(creator id, currency): (commissions of the last 30 days, of the 90 days before)}."""
    recent_since = now - dt.timedelta(days=SPIKE_WINDOW_DAYS)
    baseline_since = recent_since - dt.timedelta(days=SPIKE_BASELINE_DAYS)
    rows = (
        Commission.objects.filter(creator_id__in=creator_ids, created_at__gte=baseline_since)
        .values("creator_id", "currency")
        .annotate(
            recent=Sum("amount_minor", filter=Q(created_at__gte=recent_since), default=0),
            baseline=Sum("amount_minor", filter=Q(created_at__lt=recent_since), default=0),
        )
    )
    return {(row["creator_id"], row["currency"]): (row["recent"], row["baseline"]) for row in rows}


def _earliest_delivered(creator_ids: set[int]) -> dict[int, dt.datetime]:
    """{creator id: when their earliest sent or paid payout was requested}."""
    rows = (
        Payout.objects.filter(creator_id__in=creator_ids, status__in=DELIVERED_STATUSES)
        .values("creator_id")
        .annotate(earliest=Min("requested_at"))
    )
    return {row["creator_id"]: row["earliest"] for row in rows}


def payout_risks(payouts: list[Payout], now: dt.datetime | None = None) -> dict[int, PayoutRisk]:
    """{payout id: its risk signals} for a page of payouts (creator and user joined), in
    three queries whatever the page's size."""
    now = now or timezone.now()
    creator_ids = {payout.creator_id for payout in payouts}
    if not creator_ids:
        return {}
    refunds = _refund_counts(creator_ids)
    earnings = _earnings_windows(creator_ids, now)
    delivered = _earliest_delivered(creator_ids)
    risks: dict[int, PayoutRisk] = {}
    for payout in payouts:
        joined = payout.creator.user.date_joined
        refunded, orders = refunds.get(payout.creator_id, (0, 0))
        recent, baseline = earnings.get((payout.creator_id, payout.currency), (0, 0))
        earliest = delivered.get(payout.creator_id)
        risk = PayoutRisk(
            account_age_days=max((now - joined).days, 0),
            refund_orders=refunded,
            commissioned_orders=orders,
            recent_earnings_minor=recent,
            monthly_average_minor=baseline * SPIKE_WINDOW_DAYS // SPIKE_BASELINE_DAYS,
            first_payout=earliest is None or earliest >= payout.requested_at,
        )
        risk.flags = _flags(risk, payout)
        risks[payout.pk] = risk
    return risks


def _flags(risk: PayoutRisk, payout: Payout) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    if risk.account_age_days < YOUNG_ACCOUNT_DAYS:
        flags.append(
            RiskFlag(
                "young_account",
                _("New account"),
                _("The account was created %(days)s days ago.") % {"days": risk.account_age_days},
            )
        )
    if risk.refund_rate > REFUND_RATE_FLAG:
        flags.append(
            RiskFlag(
                "refunds",
                _("Refunds %(percent)s%%") % {"percent": round(risk.refund_rate * 100)},
                _(
                    "%(refunded)s of the creator's %(orders)s commissioned orders were "
                    "refunded or cancelled."
                )
                % {"refunded": risk.refund_orders, "orders": risk.commissioned_orders},
            )
        )
    minimum = payout_minimum_minor(payout.currency)
    if (
        risk.recent_earnings_minor > SPIKE_FACTOR * risk.monthly_average_minor
        and risk.recent_earnings_minor > minimum
    ):
        flags.append(
            RiskFlag(
                "spike",
                _("Earnings spike"),
                _(
                    "%(recent)s of commissions in the last 30 days, against a monthly "
                    "average of %(average)s over the 90 days before."
                )
                % {
                    "recent": format_money(risk.recent_earnings_minor, payout.currency),
                    "average": format_money(risk.monthly_average_minor, payout.currency),
                },
            )
        )
    if risk.first_payout:
        flags.append(
            RiskFlag(
                "first_payout",
                _("First payout"),
                _("No earlier payout to this creator has gone out."),
            )
        )
    return flags


# --- one payout -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutApprovals:
    """Where a payout's approvals stand, for display."""

    first_approver: str
    needs_second: bool


def payout_approvals(payout: Payout) -> PayoutApprovals:
    first = payout.first_approved_by
    return PayoutApprovals(
        first_approver=(first.get_full_name() or first.email) if first else "",
        needs_second=bool(
            first is not None
            and payout.second_approved_by_id is None
            and payout.status == PayoutStatus.REQUESTED
            and payout_needs_second_approval(payout)
        ),
    )


def payout_get(payout_id: int) -> Payout | None:
    return (
        Payout.objects.select_related(
            "creator__user",
            "creator__payout_account",
            "first_approved_by",
            "second_approved_by",
            "rejected_by",
        )
        .filter(pk=payout_id)
        .first()
    )


def payout_ledger_transactions(payout: Payout) -> list[LedgerTransaction]:
    """The payout's ledger transactions, oldest first, with their entries and accounts."""
    return list(
        LedgerTransaction.objects.filter(payout_id=payout.pk)
        .prefetch_related("entries__account")
        .order_by("created_at", "pk")
    )


def payout_audit_trail(payout: Payout) -> list[AuditEntry]:
    """What happened to the payout and who did it, newest first."""
    return list(
        AuditEntry.objects.filter(target_type="payouts.payout", target_id=str(payout.pk))
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )


# --- the bank rail and reconciliation ---------------------------------------------------------


def bank_payouts_open() -> dict[str, list[Payout]]:
    """{currency: approved bank payouts not yet paid}, oldest approval first."""
    by_currency: dict[str, list[Payout]] = defaultdict(list)
    queryset = (
        Payout.objects.filter(rail=PayoutRail.BANK, status=PayoutStatus.APPROVED)
        .select_related("creator")
        .order_by("currency", "approved_at", "pk")
    )
    for payout in queryset:
        by_currency[payout.currency].append(payout)
    return dict(by_currency)


def reconciliation_differences_open() -> list[ReconciliationDifference]:
    """Differences reconciliation found and nobody resolved yet, oldest first."""
    return list(
        ReconciliationDifference.objects.filter(resolved_at__isnull=True)
        .select_related("payout__creator")
        .order_by("found_at", "pk")
    )
