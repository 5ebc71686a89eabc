"""The audit log: its one writer (`audit_record`) and the staff page's reads.

Every money movement a person or Stripe causes (payout requested, approved, rejected, sent,
paid, failed, reversed), every approval, permission and key change is recorded here with its
actor, time, object and before/after. The log is append-only: PostgreSQL refuses to update or
delete its rows (migration `connect.0007_audit_append_only`); only detaching a deleted user
from the entries they made is let through, and erasing a deleted person's personal data from
the entries about them (`audit_personal_data_erase`, migration `connect.0008_audit_erasure`).

Money movements from order processing (commissions, refunds, budget shares: thousands a
second) are not repeated here: the ledger (`payouts.ledger`) is their own append-only record,
each transaction with its time and idempotency key.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import connection, models, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from connect.models import AuditEntry, User

AUDIT_PAGE_SIZE = 50


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry with a dotted action name (`connect.creator_profile.created`)."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=before or {},
        after=after or {},
    )


# What erasure writes in place of a personal value; the only change the database lets through.
ERASED = "[erased]"

# The keys of entries about a person's own objects that hold personal data, by object type.
# Everything else those entries record (statuses, amounts, flags, times) is not about the
# person and stays.
PERSONAL_KEYS: dict[str, frozenset[str]] = {
    "connect.creatorprofile": frozenset(
        {"handle", "display_name", "bio", "country", "languages", "avatar", "niches"}
    ),
    "payouts.payoutaccount": frozenset({"holder_name", "bic"}),
    "connect.creatoraccesstoken": frozenset({"name"}),
}
# Invitations name the invited person's email address, whoever sent them.
INVITATION_ACTION = "campaigns.brand_member.invited"


def _erased(payload: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {key: ERASED if key in keys and value not in ("", None) else value
            for key, value in payload.items()}  # fmt: skip


@transaction.atomic
def audit_personal_data_erase(*, targets: dict[str, list[Any]], emails: list[str]) -> int:
    """Erase personal data from the entries about a deleted person; return how many changed.

    `targets`: the person's own objects by type (`{"connect.creatorprofile": [7]}`), whose
    entries lose the values of `PERSONAL_KEYS`; `emails`: the addresses the person had,
    erased from invitations sent to them. Each value becomes `ERASED`; the entry keeps its
    time, actor, action, object and keys, so the log still shows what happened, and when.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL connect.audit_erasure = 'on'")
    about = Q(pk__in=[])
    for target_type, ids in targets.items():
        if target_type in PERSONAL_KEYS and ids:
            about |= Q(target_type=target_type, target_id__in=[str(pk) for pk in ids])
    invited = Q(pk__in=[])
    for email in emails:
        invited |= Q(after__email__iexact=email)
    entries = AuditEntry.objects.filter(about | (Q(action=INVITATION_ACTION) & invited))
    changed = 0
    for entry in entries.order_by("id").iterator(chunk_size=500):
        keys = PERSONAL_KEYS.get(entry.target_type, frozenset())
        if entry.action == INVITATION_ACTION:
            keys = keys | {"email"}
        before, after = _erased(entry.before, keys), _erased(entry.after, keys)
        if (before, after) != (entry.before, entry.after):
            AuditEntry.objects.filter(pk=entry.pk).update(before=before, after=after)
            changed += 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL connect.audit_erasure = 'off'")
    return changed


def user_permissions_snapshot(user: User) -> dict[str, Any]:
    """What the audit log records of a user's access: flags, groups and permissions."""
    if user.pk is None:
        return {}
    return {
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(
            f"{app}.{codename}"
            for app, codename in user.user_permissions.values_list(
                "content_type__app_label", "codename"
            )
        ),
    }


# ---------------------------------------------------------------------------------------
# The staff page's reads


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""  # a prefix: "payouts." or "campaigns.brand"
    actor: str = ""  # an email address or a user id
    target_type: str = ""  # "payouts.payout"
    target_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive


@dataclass(frozen=True)
class AuditCursor:
    """The last entry of a page: the next page starts strictly after it, newest first."""

    created_at: dt.datetime
    id: int

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}|{self.id}"

    @classmethod
    def decode(cls, raw: str) -> AuditCursor | None:
        at, _sep, pk = (raw or "").rpartition("|")
        try:
            created_at = dt.datetime.fromisoformat(at)
        except ValueError:
            return None
        if not pk.isdigit() or created_at.tzinfo is None:
            return None
        return cls(created_at=created_at, id=int(pk))


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: AuditCursor | None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_entries_page(
    filters: AuditFilters, *, after: AuditCursor | None = None, size: int = AUDIT_PAGE_SIZE
) -> AuditPage:
    """One page of the log, newest first, keyset-paginated on (created_at, id)."""
    queryset = AuditEntry.objects.select_related("actor")
    if filters.action:
        queryset = queryset.filter(action__startswith=filters.action)
    if filters.actor:
        actor = filters.actor.strip()
        if actor.isdigit():
            queryset = queryset.filter(actor_id=int(actor))
        else:
            queryset = queryset.filter(actor__email__iexact=actor)
    if filters.target_type:
        queryset = queryset.filter(target_type=filters.target_type.lower())
    if filters.target_id:
        queryset = queryset.filter(target_id=filters.target_id)
    if filters.date_from:
        queryset = queryset.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        queryset = queryset.filter(
            created_at__lt=_day_start(filters.date_to + dt.timedelta(days=1))
        )
    if after is not None:
        queryset = queryset.filter(
            Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__lt=after.id)
        )
    entries = list(queryset.order_by("-created_at", "-id")[: size + 1])
    more = len(entries) > size
    entries = entries[:size]
    last = entries[-1] if more else None
    return AuditPage(
        entries=entries,
        next_cursor=AuditCursor(created_at=last.created_at, id=last.pk) if last else None,
    )


@dataclass(frozen=True)
class AuditChange:
    field: str
    before: str
    after: str
    changed: bool


_MISSING = object()


def _shown(value: object) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_entry_changes(entry: AuditEntry) -> list[AuditChange]:
    """The entry's before and after, field by field, for reading side by side."""
    before = entry.before if isinstance(entry.before, dict) else {"value": entry.before}
    after = entry.after if isinstance(entry.after, dict) else {"value": entry.after}
    changes = []
    for field in sorted(set(before) | set(after)):
        old = before.get(field, _MISSING)
        new = after.get(field, _MISSING)
        changes.append(
            AuditChange(field=field, before=_shown(old), after=_shown(new), changed=old != new)
        )
    return changes


def audit_target_url(entry: AuditEntry) -> str | None:
    """A staff page for the entry's object, when one exists: a payout's page (with its
    ledger transactions), reconciliation, or the object's admin page."""
    if entry.target_type == "payouts.payout" and entry.target_id.isdigit():
        return reverse("payouts_staff:detail", kwargs={"payout_id": int(entry.target_id)})
    if entry.target_type == "payouts.reconciliationdifference":
        return reverse("payouts_staff:reconciliation")
    try:
        model = apps.get_model(entry.target_type)
    except (LookupError, ValueError):
        return None
    if not admin.site.is_registered(model):
        return None
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[entry.target_id])
    except NoReverseMatch:
        return None
