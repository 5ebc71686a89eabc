"""Brands and their teams."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from campaigns.models import Brand, BrandInvitation, BrandMembership, BrandRole
from campaigns.permissions import require_brand_member, require_staff
from connect.audit import audit_record
from connect.images import reencode_avatar
from connect.models import User
from connect.notifications import notify, notify_emails
from connect.services import user_has_verified_email

RESERVED_BRAND_SLUGS = frozenset({"new", "switch", "invitations", "admin", "api", "connect"})


def _validate_slug(slug: str) -> str:
    value = slugify(slug)
    if len(value) < 2 or value in RESERVED_BRAND_SLUGS:
        raise ValidationError({"slug": _("Choose another address for your brand.")})
    return value


@transaction.atomic
def brand_create(
    *,
    user: User,
    name: str,
    slug: str,
    website: str,
    country: str,
    description: str = "",
    logo: UploadedFile | None = None,
) -> Brand:
    """Create a brand with `user` as its first owner. The brand starts unverified."""
    if not user_has_verified_email(user):
        raise PermissionDenied(_("Verify your email address before creating a brand."))
    slug = _validate_slug(slug or name)
    if Brand.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This address is already taken.")})
    brand = Brand(
        name=name.strip(),
        slug=slug,
        website=website,
        country=country,
        description=description.strip(),
    )
    if logo is not None:
        try:
            brand.logo = reencode_avatar(logo)
        except ValidationError as exc:
            raise ValidationError({"logo": exc.error_list}) from exc
    try:
        with transaction.atomic():
            brand.save()
    except IntegrityError as exc:
        raise ValidationError({"slug": _("This address is already taken.")}) from exc
    BrandMembership.objects.create(brand=brand, user=user, role=BrandRole.OWNER)
    audit_record(
        actor=user,
        action="campaigns.brand.created",
        target=brand,
        after={"name": brand.name, "slug": slug},
    )
    return brand


@transaction.atomic
def brand_verify(*, brand: Brand, actor: User) -> Brand:
    """Staff confirm the brand is who it says; only verified brands publish campaigns."""
    require_staff(actor)
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    if brand.verified_at is not None:
        return brand
    brand.verified_at = timezone.now()
    brand.verified_by = actor
    brand.save(update_fields=["verified_at", "verified_by"])
    audit_record(
        actor=actor,
        action="campaigns.brand.verified",
        target=brand,
        before={"verified_at": None},
        after={"verified_at": brand.verified_at.isoformat()},
    )
    owners = User.objects.filter(
        brand_memberships__brand=brand, brand_memberships__role=BrandRole.OWNER
    )
    notify(users=owners, template="brand_verified", context={"brand": brand})
    return brand


@transaction.atomic
def brand_suspend(*, brand: Brand, actor: User, reason: str) -> Brand:
    """Staff freeze a brand: its active campaigns pause and it can publish nothing."""
    from campaigns.models import Campaign, CampaignStatus
    from campaigns.services.campaigns import campaign_pause

    require_staff(actor)
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    if brand.suspended_at is not None:
        return brand
    suspended_at = timezone.now()
    brand.suspended_at = suspended_at
    brand.save(update_fields=["suspended_at"])
    for campaign in Campaign.objects.filter(brand=brand, status=CampaignStatus.ACTIVE):
        campaign_pause(campaign=campaign, actor=actor, staff_override=True)
    audit_record(
        actor=actor,
        action="campaigns.brand.suspended",
        target=brand,
        before={"suspended_at": None},
        after={"suspended_at": suspended_at.isoformat(), "reason": reason},
    )
    return brand


@transaction.atomic
def brand_unsuspend(*, brand: Brand, actor: User, reason: str) -> Brand:
    """Staff lift a brand's suspension: its API keys work again and it may publish.

    Campaigns paused by the suspension stay paused: the brand resumes the ones it wants,
    since budgets and terms may need a look first. Lifting a suspension that is not there
    changes nothing.
    """
    require_staff(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason; it is kept in the audit log.")})
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    if brand.suspended_at is None:
        return brand
    suspended_at = brand.suspended_at
    brand.suspended_at = None
    brand.save(update_fields=["suspended_at"])
    audit_record(
        actor=actor,
        action="campaigns.brand.unsuspended",
        target=brand,
        before={"suspended_at": suspended_at.isoformat()},
        after={"suspended_at": None, "reason": reason},
    )
    return brand


@transaction.atomic
def brand_member_invite(*, brand: Brand, actor: User, email: str, role: str) -> BrandInvitation:
    """An owner invites someone by email; the link in the email adds them to the team."""
    require_brand_member(actor, brand, owner=True)
    email = email.strip().lower()
    if role not in BrandRole.values:
        raise ValidationError({"role": _("Choose a role.")})
    if BrandMembership.objects.filter(brand=brand, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    existing = BrandInvitation.objects.filter(
        brand=brand, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    invitation = BrandInvitation.objects.create(
        brand=brand, email=email, role=role, token=secrets.token_urlsafe(32), invited_by=actor
    )
    audit_record(
        actor=actor,
        action="campaigns.brand_member.invited",
        target=invitation,
        after={"email": email, "role": role},
    )
    notify_emails(
        emails=[email],
        template="brand_member_invited",
        context={"brand": brand, "invitation": invitation, "inviter": actor},
    )
    return invitation


@transaction.atomic
def brand_invitation_accept(*, token: str, user: User) -> BrandMembership:
    """The invited person, signed in with the invited (verified) address, joins the team."""
    invitation = (
        BrandInvitation.objects.select_for_update()
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )
    if invitation is None:
        raise ValidationError(_("This invitation is no longer valid."))
    if invitation.email.lower() != user.email.lower() or not user_has_verified_email(user):
        raise PermissionDenied(
            _("Sign in with the verified address this invitation was sent to (%(email)s).")
            % {"email": invitation.email}
        )
    membership, _created = BrandMembership.objects.get_or_create(
        brand=invitation.brand, user=user, defaults={"role": invitation.role}
    )
    if invitation.accepted_at is None:
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(
            actor=user,
            action="campaigns.brand_member.joined",
            target=membership,
            after={"role": membership.role},
        )
    return membership


@transaction.atomic
def brand_member_remove(*, membership: BrandMembership, actor: User) -> None:
    """An owner removes a member; a brand always keeps at least one owner."""
    require_brand_member(actor, membership.brand, owner=True)
    owners = BrandMembership.objects.select_for_update().filter(
        brand=membership.brand, role=BrandRole.OWNER
    )
    if membership.role == BrandRole.OWNER and owners.count() <= 1:
        raise ValidationError(_("A brand needs at least one owner."))
    audit_record(
        actor=actor,
        action="campaigns.brand_member.removed",
        target=membership,
        before={"user": membership.user_id, "role": membership.role},
        after={},
    )
    membership.delete()
