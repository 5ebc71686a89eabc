"""Writes for accounts and creator profiles. Every change to a profile goes through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connect.audit import audit_record
from connect.handles import validate_handle
from connect.images import reencode_avatar
from connect.models import CreatorProfile, CreatorSuspension, Niche, SocialAccount, User
from connect.social import parse_social_account, validate_follower_count


@dataclass(frozen=True)
class SocialAccountInput:
    platform: str
    handle_or_url: str
    follower_count: int


_PROFILE_FIELDS = ("handle", "display_name", "bio", "country", "languages")


def user_has_verified_email(user: User) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def _snapshot(profile: CreatorProfile) -> dict[str, Any]:
    data: dict[str, Any] = {field: getattr(profile, field) for field in _PROFILE_FIELDS}
    data["country"] = str(profile.country)
    data["niches"] = sorted(profile.niches.values_list("slug", flat=True)) if profile.pk else []
    data["avatar"] = profile.avatar.name if profile.avatar else ""
    return data


def _processed_avatar(upload: UploadedFile) -> ContentFile[bytes]:
    try:
        return reencode_avatar(upload)
    except ValidationError as exc:
        raise ValidationError({"avatar": exc.error_list}) from exc


def _save_handle(profile: CreatorProfile) -> None:
    """Save, turning the case-insensitive uniqueness race into a form-friendly error."""
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError as exc:
        if "connect_creator_handle_ci_unique" in str(exc):
            raise ValidationError(
                {"handle": _("This handle is already taken.")}, code="handle_taken"
            ) from exc
        raise


def _check_handle_free(handle: str, *, exclude_pk: int | None = None) -> None:
    taken = CreatorProfile.objects.filter(handle__iexact=handle)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"handle": _("This handle is already taken.")}, code="handle_taken")


@transaction.atomic
def creator_profile_create(
    *,
    user: User,
    handle: str,
    display_name: str,
    country: str,
    bio: str = "",
    languages: Sequence[str] = (),
    niches: Sequence[Niche] = (),
    avatar: UploadedFile | None = None,
    social_accounts: Sequence[SocialAccountInput] = (),
) -> CreatorProfile:
    """Make `user` a creator. Requires a verified email; the handle is unique in any case."""
    if not user_has_verified_email(user):
        raise PermissionDenied(_("Verify your email address before creating a creator profile."))
    if hasattr(user, "creator_profile"):
        raise ValidationError(_("You already have a creator profile."), code="exists")
    handle = validate_handle(handle)
    _check_handle_free(handle)
    profile = CreatorProfile(
        user=user,
        handle=handle,
        display_name=display_name.strip(),
        bio=bio.strip(),
        country=country,
        languages=list(dict.fromkeys(languages)),
    )
    if avatar is not None:
        profile.avatar = _processed_avatar(avatar)
    _save_handle(profile)
    profile.niches.set(niches)
    _social_accounts_replace(profile=profile, accounts=social_accounts)
    audit_record(
        actor=user,
        action="connect.creator_profile.created",
        target=profile,
        after=_snapshot(profile),
    )
    return profile


@transaction.atomic
def creator_profile_update(
    *,
    profile: CreatorProfile,
    actor: User,
    handle: str,
    display_name: str,
    country: str,
    bio: str = "",
    languages: Sequence[str] = (),
    niches: Sequence[Niche] = (),
    avatar: UploadedFile | None = None,
    remove_avatar: bool = False,
    social_accounts: Sequence[SocialAccountInput] | None = None,
) -> CreatorProfile:
    """Change a creator's profile. Only the creator (or staff) may; a new avatar replaces
    the old file, and social accounts, when given, replace the whole set."""
    if actor.pk != profile.user_id and not actor.is_staff:
        raise PermissionDenied(_("You can only edit your own profile."))
    profile = CreatorProfile.objects.select_for_update().get(pk=profile.pk)
    before = _snapshot(profile)
    handle = validate_handle(handle)
    _check_handle_free(handle, exclude_pk=profile.pk)
    old_avatar = profile.avatar.name if profile.avatar else ""
    profile.handle = handle
    profile.display_name = display_name.strip()
    profile.bio = bio.strip()
    profile.country = country
    profile.languages = list(dict.fromkeys(languages))
    if avatar is not None:
        profile.avatar = _processed_avatar(avatar)
    elif remove_avatar:
        profile.avatar = ""
    _save_handle(profile)
    profile.niches.set(niches)
    if social_accounts is not None:
        _social_accounts_replace(profile=profile, accounts=social_accounts)
    new_avatar = profile.avatar.name if profile.avatar else ""
    if old_avatar and old_avatar != new_avatar:
        storage = profile.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    after = _snapshot(profile)
    if after != before:
        audit_record(
            actor=actor,
            action="connect.creator_profile.updated",
            target=profile,
            before=before,
            after=after,
        )
    return profile


def _social_accounts_replace(
    *, profile: CreatorProfile, accounts: Sequence[SocialAccountInput]
) -> None:
    """Replace the creator's social accounts and refresh the `max_followers` rollup."""
    parsed: dict[tuple[str, str], SocialAccount] = {}
    errors: list[str] = []
    for account in accounts:
        try:
            result = parse_social_account(account.platform, account.handle_or_url)
            followers = validate_follower_count(account.follower_count)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        parsed[(result.platform, result.url.lower())] = SocialAccount(
            profile=profile,
            platform=result.platform,
            handle=result.handle,
            url=result.url,
            follower_count=followers,
        )
    if errors:
        raise ValidationError(errors, code="social_accounts")
    SocialAccount.objects.filter(profile=profile).delete()
    SocialAccount.objects.bulk_create(parsed.values())
    profile.max_followers = max((a.follower_count for a in parsed.values()), default=0)
    profile.save(update_fields=["max_followers", "updated_at"])


def user_language_set(*, user: User, language: str) -> None:
    """Remember the language the user chose, for the emails we send them."""
    if language in dict(settings.LANGUAGES) and user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])


def _require_staff_with_reason(actor: User, reason: str) -> str:
    if not (actor.is_authenticated and actor.is_staff):
        raise PermissionDenied(_("Only staff can do this."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason; it is kept in the audit log.")})
    return reason


@transaction.atomic
def creator_suspend(*, creator: CreatorProfile, actor: User, reason: str) -> CreatorProfile:
    """Staff suspend a creator: their payouts are held and orders placed from now on are
    not attributed to them, until `creator_unsuspend`.

    Opens a `CreatorSuspension` period (the earnings rules read the periods, so a recompute
    after reinstatement agrees). Suspending a suspended creator changes nothing.
    """
    reason = _require_staff_with_reason(actor, reason)
    creator = CreatorProfile.objects.select_for_update().get(pk=creator.pk)
    if creator.suspended_at is not None:
        return creator
    now = timezone.now()
    suspension = CreatorSuspension.objects.create(
        creator=creator, started_at=now, reason=reason, started_by=actor
    )
    creator.suspended_at = now
    creator.save(update_fields=["suspended_at", "updated_at"])
    audit_record(
        actor=actor,
        action="connect.creator.suspended",
        target=creator,
        before={"suspended_at": None},
        after={
            "suspended_at": now.isoformat(),
            "reason": reason,
            "suspension": suspension.pk,
        },
    )
    return creator


@transaction.atomic
def creator_unsuspend(*, creator: CreatorProfile, actor: User, reason: str) -> CreatorProfile:
    """Staff lift a creator's suspension: the open period ends now, new orders are
    attributed again and held payouts may proceed. Orders placed during the suspension
    stay unattributed. Lifting a suspension that is not there changes nothing."""
    reason = _require_staff_with_reason(actor, reason)
    creator = CreatorProfile.objects.select_for_update().get(pk=creator.pk)
    if creator.suspended_at is None:
        return creator
    now = timezone.now()
    suspended_at = creator.suspended_at
    ended = CreatorSuspension.objects.filter(creator=creator, ended_at__isnull=True).update(
        ended_at=now, ended_by=actor, end_reason=reason
    )
    creator.suspended_at = None
    creator.save(update_fields=["suspended_at", "updated_at"])
    audit_record(
        actor=actor,
        action="connect.creator.unsuspended",
        target=creator,
        before={"suspended_at": suspended_at.isoformat()},
        after={"suspended_at": None, "reason": reason, "periods_closed": ended},
    )
    return creator
