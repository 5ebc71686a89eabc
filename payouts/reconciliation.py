"""Daily reconciliation: Stripe's transfers against the payouts we marked sent.

Every Stripe-rail payout that has a transfer (sent, paid, or failed after a reversal) and was
requested within PAYOUT_RECONCILE_DAYS must match exactly one transfer in its
`transfer_group`, with its amount, currency, destination and reversed amount; every transfer
in a `payout_<id>` group must belong to such a payout. Each difference is stored once while
open (a later run finds it again without repeating it), shown on the staff page and emailed
to staff.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import stripe
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from connect.models import User
from connect.notifications import notify
from payouts.models import (
    Payout,
    PayoutRail,
    PayoutStatus,
    ReconciliationDifference,
    ReconciliationKind,
)
from payouts.stripe_client import stripe_client

_GROUP_PREFIX = "payout_"


@dataclass(frozen=True)
class Finding:
    kind: str
    payout_id: int | None
    transfer_id: str
    currency: str
    expected_minor: int | None
    actual_minor: int | None
    detail: str


def _transfers_since(client: stripe.StripeClient, since: datetime) -> list[stripe.Transfer]:
    """Transfers created since `since` (Stripe lists newest first; stop at the first older)."""
    floor = int(since.timestamp())
    found: list[stripe.Transfer] = []
    for transfer in client.v1.transfers.list(params={"limit": 100}).auto_paging_iter():
        if transfer.created < floor:
            break
        found.append(transfer)
    return found


def reconciliation_findings(
    *, transfers: list[stripe.Transfer], payouts: list[Payout]
) -> list[Finding]:
    """Compare (pure): what differs between these transfers and these payouts."""
    by_group: dict[str, list[stripe.Transfer]] = defaultdict(list)
    for transfer in transfers:
        if (transfer.transfer_group or "").startswith(_GROUP_PREFIX):
            by_group[transfer.transfer_group or ""].append(transfer)
    findings: list[Finding] = []
    expected_groups = set()
    for payout in payouts:
        group = payout.transfer_group
        expected_groups.add(group)
        matching = by_group.get(group, [])
        if not matching:
            findings.append(
                Finding(
                    ReconciliationKind.MISSING_TRANSFER,
                    payout.pk,
                    payout.stripe_transfer_id,
                    payout.currency,
                    payout.amount_minor,
                    None,
                    f"No Stripe transfer in group {group}.",
                )
            )
            continue
        if len(matching) > 1:
            findings.append(
                Finding(
                    ReconciliationKind.DUPLICATE_TRANSFER,
                    payout.pk,
                    ",".join(sorted(t.id for t in matching))[:64],
                    payout.currency,
                    payout.amount_minor,
                    sum(t.amount for t in matching),
                    f"{len(matching)} transfers in group {group}.",
                )
            )
        for transfer in matching:
            if (
                transfer.amount != payout.amount_minor
                or transfer.currency.upper() != payout.currency
            ):
                findings.append(
                    Finding(
                        ReconciliationKind.AMOUNT_MISMATCH,
                        payout.pk,
                        transfer.id,
                        payout.currency,
                        payout.amount_minor,
                        transfer.amount,
                        f"Transfer is {transfer.amount} {transfer.currency.upper()}.",
                    )
                )
            destination = transfer.destination
            destination_id = (
                destination if isinstance(destination, str) else getattr(destination, "id", "")
            )
            if destination_id != payout.stripe_account_id:
                findings.append(
                    Finding(
                        ReconciliationKind.DESTINATION_MISMATCH,
                        payout.pk,
                        transfer.id,
                        payout.currency,
                        None,
                        None,
                        f"Transfer went to {destination_id}, payout to {payout.stripe_account_id}.",
                    )
                )
            if int(transfer.amount_reversed or 0) != payout.reversed_minor:
                findings.append(
                    Finding(
                        ReconciliationKind.REVERSAL_MISMATCH,
                        payout.pk,
                        transfer.id,
                        payout.currency,
                        payout.reversed_minor,
                        int(transfer.amount_reversed or 0),
                        "Stripe's reversed amount differs from ours.",
                    )
                )
    known_ids = set(
        Payout.objects.filter(
            pk__in=[
                int(group[len(_GROUP_PREFIX) :])
                for group in by_group
                if group not in expected_groups and group[len(_GROUP_PREFIX) :].isdigit()
            ]
        )
        .exclude(status__in=[PayoutStatus.REQUESTED, PayoutStatus.REJECTED])
        .values_list("pk", flat=True)
    )
    for group, group_transfers in sorted(by_group.items()):
        if group in expected_groups:
            continue
        suffix = group[len(_GROUP_PREFIX) :]
        payout_id = int(suffix) if suffix.isdigit() else None
        for transfer in group_transfers:
            findings.append(
                Finding(
                    ReconciliationKind.UNKNOWN_TRANSFER,
                    payout_id if payout_id in known_ids else None,
                    transfer.id,
                    transfer.currency.upper(),
                    None,
                    transfer.amount,
                    f"Transfer in group {group} matches no sent payout.",
                )
            )
    return findings


def payouts_reconcile(
    *, client: stripe.StripeClient | None = None, now: datetime | None = None
) -> list[ReconciliationDifference]:
    """Run the comparison; store and email the differences not already open. Returns them."""
    client = client or stripe_client()
    now = now or timezone.now()
    since = now - timedelta(days=settings.PAYOUT_RECONCILE_DAYS)
    # Payouts read first: a payout sent while Stripe is listed is then never "missing".
    payouts = list(
        Payout.objects.filter(rail=PayoutRail.STRIPE, requested_at__gte=since)
        .exclude(stripe_transfer_id="")
        .order_by("pk")
    )
    transfers = _transfers_since(client, since - timedelta(days=1))
    findings = reconciliation_findings(transfers=transfers, payouts=payouts)
    new = _store(findings)
    if new:
        staff = User.objects.filter(is_staff=True, is_active=True)
        notify(
            users=staff,
            template="reconciliation_differences",
            context={"differences": new, "count": len(new)},
        )
    return new


@transaction.atomic
def _store(findings: list[Finding]) -> list[ReconciliationDifference]:
    new_ids: list[int] = []
    with connection.cursor() as cursor:
        for f in findings:
            cursor.execute(
                """
                INSERT INTO payouts_reconciliationdifference
                    (kind, payout_id, stripe_transfer_id, currency, expected_minor,
                     actual_minor, detail, found_at, resolution_note)
                VALUES (%s, %s, %s, %s, %s, %s, %s, now(), '')
                ON CONFLICT (kind, payout_id, stripe_transfer_id)
                    WHERE resolved_at IS NULL DO NOTHING
                RETURNING id
                """,
                [
                    f.kind,
                    f.payout_id,
                    f.transfer_id,
                    f.currency,
                    f.expected_minor,
                    f.actual_minor,
                    f.detail,
                ],
            )
            row = cursor.fetchone()
            if row is not None:
                new_ids.append(row[0])
    return list(ReconciliationDifference.objects.filter(pk__in=new_ids).order_by("pk"))
