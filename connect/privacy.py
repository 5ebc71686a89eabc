"""Privacy: a user's copy of their data, and the deletion of their account.

The export is a JSON document written a piece at a time: a creator may have hundreds of
thousands of commissions, so those rows come from server-side cursors (`.iterator()`) and
go out as they are read, never held in memory as one list. It carries the user's own data
and nothing about other people: no secret (token hashes, the encrypted IBAN), and of the
bank account only its last four characters.

Deleting an account erases or anonymises the person and keeps the money records the law
requires (orders, commissions, ledger entries, payouts): they point at the creator profile
by id, and that profile no longer holds anything personal. The payout account keeps its
rail, Stripe account id and the IBAN's last four characters, which tie past payouts to
the bank statements they appear on; the encrypted IBAN, BIC and holder name go, and the
Stripe connected account is closed at Stripe once the deletion commits
(`payouts.stripe_accounts`). A bank
payout keeps the holder name and last four it was sent to: that is the payment record
itself. Audit entries stay, with their time, actor, action and object (the log is the
security record), but the personal values in those about the person (profile snapshots,
the bank holder's name, token names, invitations to their address) are replaced by
"[erased]" (`connect.audit.audit_personal_data_erase`).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable, Iterator
from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import (
    BrandInvitation,
    BrandMembership,
    BrandRole,
    Collaboration,
    CollaborationStatus,
)
from campaigns.tracking_cache import tracking_cache_forget
from connect.audit import audit_personal_data_erase, audit_record
from connect.models import AuditEntry, CreatorAccessToken, CreatorProfile, SocialAccount, User
from connect.money import from_minor
from connect.secret_keys import secret_key_revoke
from payouts.models import OPEN_PAYOUT_STATUSES, Commission, Payout, PayoutAccount
from payouts.stripe_accounts import stripe_account_close_after_deletion

EXPORT_FORMAT = "connect-user-data/1"
# Rows per round trip of the export's server-side cursors.
EXPORT_CHUNK_SIZE = 2000

DELETED_DISPLAY_NAME = "Deleted creator"


# --- export ---------------------------------------------------------------------------------


def _when(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(amount_minor: int, currency: str) -> dict[str, str]:
    return {"amount": from_minor(amount_minor, currency), "currency": currency}


def _user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "preferred_language": user.preferred_language,
        "date_joined": _when(user.date_joined),
        "last_login": _when(user.last_login),
        "is_staff": user.is_staff,
    }


def _profile_row(profile: CreatorProfile) -> dict[str, Any]:
    return {
        "id": profile.pk,
        "handle": profile.handle,
        "display_name": profile.display_name,
        "bio": profile.bio,
        "avatar": profile.avatar.name or None,
        "country": str(profile.country),
        "languages": list(profile.languages),
        "niches": [niche.slug for niche in profile.niches.all()],
        "max_followers": profile.max_followers,
        "suspended_at": _when(profile.suspended_at),
        "created_at": _when(profile.created_at),
        "updated_at": _when(profile.updated_at),
        "social_accounts": [
            {
                "platform": account.platform,
                "handle": account.handle,
                "url": account.url,
                "follower_count": account.follower_count,
            }
            for account in SocialAccount.objects.filter(profile=profile).order_by("id")
        ],
    }


def _collaboration_rows(profile: CreatorProfile) -> Iterator[dict[str, Any]]:
    rows = (
        Collaboration.objects.filter(creator=profile)
        .select_related("campaign", "brand")
        .order_by("id")
    )
    for collaboration in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "id": collaboration.pk,
            "campaign": collaboration.campaign.title,
            "brand": collaboration.brand.name,
            "status": collaboration.status,
            "pitch": collaboration.pitch,
            "tracking_code": collaboration.tracking_code,
            "discount_code": collaboration.discount_code,
            "created_at": _when(collaboration.created_at),
            "activated_at": _when(collaboration.activated_at),
            "removed_at": _when(collaboration.removed_at),
        }


def _commission_rows(profile: CreatorProfile) -> Iterator[dict[str, Any]]:
    rows = (
        Commission.objects.filter(creator_id=profile.pk)
        .order_by("id")
        .values_list(
            "id",
            "order_ref",
            "campaign_id",
            "currency",
            "amount_minor",
            "net_amount_minor",
            "status",
            "paid_received_at",
            "payable_at",
            "approved_at",
            "created_at",
        )
    )
    for row in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        (pk, order_ref, campaign_id, currency, amount, net, status, paid, payable, approved, at) = (
            row
        )
        yield {
            "id": pk,
            "order_ref": order_ref,
            "campaign_id": campaign_id,
            "commission": _money(amount, currency),
            "order_net": _money(net, currency),
            "status": status,
            "paid_received_at": _when(paid),
            "payable_at": _when(payable),
            "approved_at": _when(approved),
            "created_at": _when(at),
        }


def _payout_rows(profile: CreatorProfile) -> Iterator[dict[str, Any]]:
    rows = Payout.objects.filter(creator=profile).order_by("id")
    for payout in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "id": payout.pk,
            **_money(payout.amount_minor, payout.currency),
            "status": payout.status,
            "rail": payout.rail,
            "bank_iban_last4": payout.bank_iban_last4,
            "requested_at": _when(payout.requested_at),
            "approved_at": _when(payout.approved_at),
            "sent_at": _when(payout.sent_at),
            "paid_at": _when(payout.paid_at),
            "failed_at": _when(payout.failed_at),
            "rejected_at": _when(payout.rejected_at),
        }


def _payout_account_row(profile: CreatorProfile) -> dict[str, Any] | None:
    account = PayoutAccount.objects.filter(creator=profile).first()
    if account is None:
        return None
    return {
        "rail": account.rail,
        "stripe_account_id": account.stripe_account_id,
        "bank_holder_name": account.bank_holder_name,
        "bank_iban_last4": account.bank_iban_last4,
        "bank_country": account.bank_country,
        "created_at": _when(account.created_at),
    }


def _token_rows(profile: CreatorProfile) -> Iterator[dict[str, Any]]:
    for token in CreatorAccessToken.objects.filter(creator=profile).order_by("id"):
        yield {
            "name": token.name,
            "prefix": token.prefix,
            "created_at": _when(token.created_at),
            "last_used_at": _when(token.last_used_at),
            "revoked_at": _when(token.revoked_at),
        }


def _membership_rows(user: User) -> Iterator[dict[str, Any]]:
    rows = BrandMembership.objects.filter(user=user).select_related("brand").order_by("id")
    for membership in rows:
        yield {
            "brand": membership.brand.name,
            "role": membership.role,
            "created_at": _when(membership.created_at),
        }


def _audit_rows(user: User, profile: CreatorProfile | None) -> Iterator[dict[str, Any]]:
    # Entries about the user or their profile; entries they wrote about others (a member they
    # removed, say) are those others' data, not theirs.
    about = Q(target_type=User._meta.label_lower, target_id=str(user.pk))
    if profile is not None:
        about |= Q(target_type=CreatorProfile._meta.label_lower, target_id=str(profile.pk))
    rows = AuditEntry.objects.filter(about).order_by("id")
    for entry in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield {
            "action": entry.action,
            "created_at": _when(entry.created_at),
            "by_you": entry.actor_id == user.pk,
            "before": entry.before,
            "after": entry.after,
        }


def _json_array(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield "["
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "]"


def _export_chunks(user: User, profile: CreatorProfile | None) -> Iterator[str]:
    head = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "user": _user_row(user),
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("id")
        ],
        "creator_profile": _profile_row(profile) if profile is not None else None,
        "payout_account": _payout_account_row(profile) if profile is not None else None,
    }
    yield json.dumps(head, ensure_ascii=False)[:-1]
    sections: list[tuple[str, Iterable[dict[str, Any]]]] = [
        ("brand_memberships", _membership_rows(user)),
        ("audit_entries", _audit_rows(user, profile)),
    ]
    if profile is not None:
        sections[:0] = [
            ("collaborations", _collaboration_rows(profile)),
            ("commissions", _commission_rows(profile)),
            ("payouts", _payout_rows(profile)),
            ("creator_tokens", _token_rows(profile)),
        ]
    for name, rows in sections:
        yield f", {json.dumps(name)}: "
        yield from _json_array(rows)
    yield "}\n"


def _profile_of(user: User) -> CreatorProfile | None:
    return CreatorProfile.objects.filter(user=user).first()


def user_data_export(*, user: User) -> Iterator[str]:
    """Record the export in the audit log and return the user's data as JSON text, in
    chunks to be streamed (iterate the result once, to its end)."""
    audit_record(actor=user, action="connect.user.data_exported", target=user)
    return _export_chunks(user, _profile_of(user))


# --- deletion -------------------------------------------------------------------------------


def _check_deletable(user: User, profile: CreatorProfile | None) -> None:
    if profile is not None and (
        Payout.objects.filter(creator=profile, status__in=OPEN_PAYOUT_STATUSES).exists()
    ):
        raise ValidationError(
            _(
                "You have a payout in progress. Wait until it is paid or rejected (you will "
                "get an email), then delete your account."
            ),
            code="open_payout",
        )
    owned = BrandMembership.objects.filter(user=user, role=BrandRole.OWNER).select_related("brand")
    for membership in owned:
        other_owners = (
            BrandMembership.objects.filter(brand_id=membership.brand_id, role=BrandRole.OWNER)
            .exclude(user=user)
            .exists()
        )
        if not other_owners:
            raise ValidationError(
                _(
                    "You are the last owner of %(brand)s. Make another member an owner, or "
                    "remove the brand, before deleting your account."
                )
                % {"brand": membership.brand.name},
                code="last_owner",
            )


def _end_collaborations(profile: CreatorProfile, now: dt.datetime) -> list[int]:
    """Stop every collaboration from attributing: active ones are removed from `now` (their
    codes stay on the row, so recomputing an earlier order gives the same answer), open
    applications are rejected and invitations declined."""
    ended: list[int] = []
    ends = {
        CollaborationStatus.ACTIVE: CollaborationStatus.REMOVED,
        CollaborationStatus.APPLIED: CollaborationStatus.REJECTED,
        CollaborationStatus.INVITED: CollaborationStatus.DECLINED,
    }
    rows = Collaboration.objects.select_for_update().filter(creator=profile).order_by("id")
    for collaboration in rows:
        collaboration.pitch = ""
        fields = ["pitch", "updated_at"]
        to_status = ends.get(CollaborationStatus(collaboration.status))
        if to_status is not None:
            before = collaboration.status
            collaboration.status = to_status
            fields.append("status")
            if to_status == CollaborationStatus.REMOVED:
                collaboration.removed_at = now
                fields.append("removed_at")
                tracking_cache_forget(tracking_codes=[collaboration.tracking_code])
            audit_record(
                actor=None,
                action=f"campaigns.collaboration.{to_status}",
                target=collaboration,
                before={"status": before},
                after={"status": to_status, "reason": "account deleted"},
            )
            ended.append(collaboration.pk)
        collaboration.save(update_fields=fields)
    return ended


def _anonymise_profile(profile: CreatorProfile) -> None:
    avatar = profile.avatar.name
    if avatar:
        storage = profile.avatar.storage
        # Files are not transactional: the avatar goes once the erasure has committed.
        transaction.on_commit(lambda: storage.delete(avatar))
    SocialAccount.objects.filter(profile=profile).delete()
    profile.niches.clear()
    profile.handle = f"deleted_{profile.pk}"
    profile.display_name = DELETED_DISPLAY_NAME
    profile.bio = ""
    profile.avatar = ""
    profile.country = ""
    profile.languages = []
    profile.max_followers = 0
    profile.save()
    for token in CreatorAccessToken.objects.filter(creator=profile, revoked_at__isnull=True):
        secret_key_revoke(token, actor=None, action="connect.creator_token.revoked")
    PayoutAccount.objects.filter(creator=profile).update(
        bank_holder_name="", bank_iban_encrypted="", bank_bic="", updated_at=timezone.now()
    )


def _sessions_delete(user_id: int) -> int:
    """Delete every live session of the user; return how many.

    Sessions are not indexed by user, so this reads each live one: a few seconds at a
    million sessions, paid once per deleted account. They are harmless meanwhile (the
    user is inactive, so no session signs them in); this removes what they hold.
    """
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore()
    keys = [
        key
        for key, data in Session.objects.filter(expire_date__gt=timezone.now())
        .values_list("session_key", "session_data")
        .iterator(chunk_size=EXPORT_CHUNK_SIZE)
        if str(store.decode(data).get("_auth_user_id")) == str(user_id)
    ]
    for key in keys:
        engine.SessionStore(session_key=key).delete()
    return len(keys)


@transaction.atomic
def user_account_delete(*, user: User) -> User:
    """Delete the user's account at their request: erase or anonymise everything personal,
    keep the money records (detached from the person) and stop their codes attributing.

    Refused (ValidationError) while a payout is in flight, or when the user is the last
    owner of a brand. Every session stops signing the user in at once (inactive, no
    password); once the deletion commits, the sessions themselves are deleted.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active and user.email.endswith("@invalid"):
        return user  # already deleted (a double submit)
    profile = CreatorProfile.objects.select_for_update().filter(user=user).first()
    _check_deletable(user, profile)
    now = timezone.now()
    emails = sorted(
        {user.email.lower()}
        | {
            e.lower()
            for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
        }
    )
    ended: list[int] = []
    if profile is not None:
        ended = _end_collaborations(profile, now)
        _anonymise_profile(profile)
        stripe_account_close_after_deletion(creator=profile)
    memberships = BrandMembership.objects.filter(user=user)
    membership_count = memberships.count()
    memberships.delete()
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    user.email = f"deleted-{secrets.token_hex(8)}@invalid"
    user.first_name = ""
    user.last_name = ""
    user.preferred_language = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    # Invitations name the person too: they keep the deleted account's address instead.
    invitations = Q(pk__in=[])
    for email in emails:
        invitations |= Q(email__iexact=email)
    BrandInvitation.objects.filter(invitations).update(email=user.email)
    erased = audit_personal_data_erase(targets=_own_objects(profile), emails=emails)
    user_id = user.pk
    transaction.on_commit(lambda: _sessions_delete(user_id))
    audit_record(
        actor=None,
        action="connect.user.deleted",
        target=user,
        after={
            "creator_profile": profile.pk if profile is not None else None,
            "collaborations_ended": ended,
            "brand_memberships_removed": membership_count,
            "audit_entries_erased": erased,
        },
    )
    return user


def _own_objects(profile: CreatorProfile | None) -> dict[str, list[Any]]:
    """The deleted person's objects whose audit entries hold personal data, by type."""
    if profile is None:
        return {}
    return {
        "connect.creatorprofile": [profile.pk],
        "payouts.payoutaccount": list(
            PayoutAccount.objects.filter(creator=profile).values_list("pk", flat=True)
        ),
        "connect.creatoraccesstoken": list(
            CreatorAccessToken.objects.filter(creator=profile).values_list("pk", flat=True)
        ),
    }
