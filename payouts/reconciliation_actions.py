"""What staff do about the differences reconciliation found between Stripe and our payouts."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connect.audit import audit_record
from connect.models import User
from payouts.models import ReconciliationDifference


def _snapshot(difference: ReconciliationDifference) -> dict[str, object]:
    return {
        "kind": difference.kind,
        "payout": difference.payout_id,
        "stripe_transfer_id": difference.stripe_transfer_id,
        "resolved_at": difference.resolved_at.isoformat() if difference.resolved_at else None,
        "resolved_by": difference.resolved_by_id,
        "resolution_note": difference.resolution_note,
    }


@transaction.atomic
def reconciliation_difference_resolve(
    *, difference: ReconciliationDifference, actor: User, note: str
) -> ReconciliationDifference:
    """Close a difference with a note saying what staff found or did about it (staff only).

    Resolving an already resolved difference changes nothing (a double submit)."""
    if not (actor.is_authenticated and actor.is_staff and actor.is_active):
        raise PermissionDenied(_("Only staff can do this."))
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Say what you found or did about this difference."))
    difference = ReconciliationDifference.objects.select_for_update().get(pk=difference.pk)
    if difference.resolved_at is not None:
        return difference
    before = _snapshot(difference)
    difference.resolved_at = timezone.now()
    difference.resolved_by = actor
    difference.resolution_note = note
    difference.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    audit_record(
        actor=actor,
        action="payouts.reconciliation_difference.resolved",
        target=difference,
        before=before,
        after=_snapshot(difference),
    )
    return difference
