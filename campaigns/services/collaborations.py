"""Collaborations: joining, applying, invitations, decisions, removal and codes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.codes import discount_code_base, new_tracking_code, validate_discount_code
from campaigns.models import (
    BrandRole,
    Campaign,
    CampaignStatus,
    Collaboration,
    CollaborationStatus,
    JoinMode,
)
from campaigns.permissions import require_brand_member
from campaigns.selectors import campaign_ineligibility_reasons
from campaigns.tracking_cache import tracking_cache_forget
from connect.audit import audit_record
from connect.models import CreatorProfile, User
from connect.notifications import notify
from connect.services import user_has_verified_email


def _brand_team(campaign: Campaign) -> list[User]:
    return list(
        User.objects.filter(
            brand_memberships__brand_id=campaign.brand_id,
            brand_memberships__role__in=[BrandRole.OWNER, BrandRole.MANAGER],
        )
    )


def _lock(collaboration: Collaboration) -> Collaboration:
    return (
        Collaboration.objects.select_for_update()
        .select_related("campaign", "campaign__brand", "creator", "creator__user")
        .get(pk=collaboration.pk)
    )


def _check_transition(collaboration: Collaboration, to_status: str) -> None:
    if to_status not in Collaboration.TRANSITIONS.get(collaboration.status, set()):
        raise ValidationError(
            _("This collaboration cannot go from %(from)s to %(to)s.")
            % {
                "from": CollaborationStatus(collaboration.status).label,
                "to": CollaborationStatus(to_status).label,
            }
        )


def _free_discount_code(collaboration: Collaboration, wanted: str | None) -> str:
    """The brand's chosen code, or one made from the handle, unique within the brand."""
    taken = Collaboration.objects.filter(brand_id=collaboration.brand_id).exclude(
        pk=collaboration.pk
    )
    if wanted:
        code = validate_discount_code(wanted)
        if taken.filter(discount_code__iexact=code).exists():
            raise ValidationError(
                {"discount_code": _("This discount code is already used in your brand.")}
            )
        return code
    base = discount_code_base(collaboration.creator.handle)
    code, n = base, 1
    while taken.filter(discount_code__iexact=code).exists():
        n += 1
        code = f"{base}{n}"
    return code


def _activate(collaboration: Collaboration, discount_code: str | None = None) -> None:
    """Give an accepted collaboration its codes; it attributes orders from now on."""
    collaboration.status = CollaborationStatus.ACTIVE
    collaboration.activated_at = timezone.now()
    collaboration.discount_code = _free_discount_code(collaboration, discount_code)
    for _attempt in range(5):
        collaboration.tracking_code = new_tracking_code()
        try:
            with transaction.atomic():
                collaboration.save()
            return
        except IntegrityError as exc:
            if "tracking_code" in str(exc):
                continue
            if "discount_code" in str(exc):
                raise ValidationError(
                    {"discount_code": _("This discount code is already used in your brand.")}
                ) from exc
            raise
    raise RuntimeError("could not find a free tracking code")


def _audit(
    actor: User, collaboration: Collaboration, action: str, before: str, **after: str
) -> None:
    audit_record(
        actor=actor,
        action=f"campaigns.collaboration.{action}",
        target=collaboration,
        before={"status": before},
        after={"status": collaboration.status, **after},
    )


@transaction.atomic
def collaboration_join(
    *, campaign: Campaign, creator: CreatorProfile, pitch: str = ""
) -> Collaboration:
    """A creator joins an open campaign at once, or applies with a pitch to an application
    campaign. Invite-only campaigns cannot be joined; ineligible creators are refused."""
    if not user_has_verified_email(creator.user):
        raise PermissionDenied(_("Verify your email address before joining campaigns."))
    campaign = Campaign.objects.select_related("brand").get(pk=campaign.pk)
    if campaign.join_mode == JoinMode.INVITE_ONLY:
        raise PermissionDenied(_("This campaign is by invitation only."))
    reasons = campaign_ineligibility_reasons(campaign, creator)
    if reasons:
        raise PermissionDenied(" ".join(reasons))
    existing = (
        Collaboration.objects.select_for_update().filter(campaign=campaign, creator=creator).first()
    )
    if existing is not None:
        if existing.status in {CollaborationStatus.ACTIVE, CollaborationStatus.APPLIED}:
            return existing  # a double click
        raise ValidationError(_("You have already been part of this campaign."))
    if campaign.join_mode == JoinMode.APPLICATION and not pitch.strip():
        raise ValidationError({"pitch": _("Tell the brand why you are a good fit.")})
    collaboration = Collaboration(
        campaign=campaign, brand=campaign.brand, creator=creator, pitch=pitch.strip()
    )
    try:
        with transaction.atomic():
            if campaign.join_mode == JoinMode.OPEN:
                _activate(collaboration)
            else:
                collaboration.status = CollaborationStatus.APPLIED
                collaboration.save()
    except IntegrityError as exc:  # the same creator joining twice at once
        if "campaigns_collab_unique" in str(exc):
            return Collaboration.objects.get(campaign=campaign, creator=creator)
        raise
    if collaboration.status == CollaborationStatus.ACTIVE:
        _audit(creator.user, collaboration, "joined", "")
        notify(
            users=_brand_team(campaign),
            template="collaboration_joined",
            context={"collaboration": collaboration, "campaign": campaign},
        )
    else:
        _audit(creator.user, collaboration, "applied", "")
        notify(
            users=_brand_team(campaign),
            template="collaboration_applied",
            context={"collaboration": collaboration, "campaign": campaign},
        )
    return collaboration


@transaction.atomic
def collaboration_accept(
    *, collaboration: Collaboration, actor: User, discount_code: str | None = None
) -> Collaboration:
    """The brand accepts an application; the creator gets their link and code."""
    collaboration = _lock(collaboration)
    require_brand_member(actor, collaboration.campaign.brand)
    if collaboration.creator.user_id == actor.pk:
        # A member who is also a creator would otherwise approve their own commissions.
        raise PermissionDenied(
            _("Another member of the brand must decide on your own application.")
        )
    if collaboration.status == CollaborationStatus.ACTIVE:
        return collaboration
    if collaboration.status != CollaborationStatus.APPLIED:
        _check_transition(collaboration, CollaborationStatus.ACTIVE)
        raise ValidationError(_("Only applications can be accepted by the brand."))
    before = collaboration.status
    _activate(collaboration, discount_code)
    _audit(actor, collaboration, "accepted", before)
    notify(
        users=[collaboration.creator.user],
        template="application_accepted",
        context={"collaboration": collaboration, "campaign": collaboration.campaign},
    )
    return collaboration


@transaction.atomic
def collaboration_reject(
    *, collaboration: Collaboration, actor: User, reason: str
) -> Collaboration:
    """The brand turns down an application and says why."""
    collaboration = _lock(collaboration)
    require_brand_member(actor, collaboration.campaign.brand)
    if collaboration.status == CollaborationStatus.REJECTED:
        return collaboration
    _check_transition(collaboration, CollaborationStatus.REJECTED)
    if not reason.strip():
        raise ValidationError({"reason": _("Tell the creator why.")})
    before = collaboration.status
    collaboration.status = CollaborationStatus.REJECTED
    collaboration.decision_reason = reason.strip()
    collaboration.save(update_fields=["status", "decision_reason", "updated_at"])
    _audit(actor, collaboration, "rejected", before, reason=collaboration.decision_reason)
    notify(
        users=[collaboration.creator.user],
        template="application_rejected",
        context={"collaboration": collaboration, "campaign": collaboration.campaign},
    )
    return collaboration


@transaction.atomic
def collaboration_invite(
    *, campaign: Campaign, creator: CreatorProfile, actor: User
) -> Collaboration:
    """A brand member invites a creator from the directory; the creator accepts or declines."""
    require_brand_member(actor, campaign.brand)
    if campaign.status not in {CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED}:
        raise ValidationError(_("An ended campaign cannot invite creators."))
    existing = Collaboration.objects.filter(campaign=campaign, creator=creator).first()
    if existing is not None:
        if existing.status == CollaborationStatus.INVITED:
            return existing
        raise ValidationError(_("This creator is already part of this campaign."))
    collaboration = Collaboration.objects.create(
        campaign=campaign,
        brand_id=campaign.brand_id,
        creator=creator,
        status=CollaborationStatus.INVITED,
        invited_by=actor,
    )
    _audit(actor, collaboration, "invited", "")
    notify(
        users=[creator.user],
        template="collaboration_invited",
        context={"collaboration": collaboration, "campaign": campaign},
    )
    return collaboration


@transaction.atomic
def collaboration_accept_invitation(*, collaboration: Collaboration, actor: User) -> Collaboration:
    """The invited creator accepts; their link and code are ready at once."""
    collaboration = _lock(collaboration)
    if collaboration.creator.user_id != actor.pk:
        raise PermissionDenied(_("Only the invited creator can answer this invitation."))
    if collaboration.status == CollaborationStatus.ACTIVE:
        return collaboration
    _check_transition(collaboration, CollaborationStatus.ACTIVE)
    if collaboration.status != CollaborationStatus.INVITED:
        raise ValidationError(_("Only invitations can be accepted by the creator."))
    if not user_has_verified_email(actor):
        raise PermissionDenied(_("Verify your email address before joining campaigns."))
    if collaboration.campaign.status == CampaignStatus.ENDED:
        raise ValidationError(_("This campaign has ended."))
    _activate(collaboration)
    _audit(actor, collaboration, "invitation_accepted", CollaborationStatus.INVITED)
    notify(
        users=_brand_team(collaboration.campaign),
        template="invitation_accepted",
        context={"collaboration": collaboration, "campaign": collaboration.campaign},
    )
    return collaboration


@transaction.atomic
def collaboration_decline(*, collaboration: Collaboration, actor: User) -> Collaboration:
    """The invited creator declines."""
    collaboration = _lock(collaboration)
    if collaboration.creator.user_id != actor.pk:
        raise PermissionDenied(_("Only the invited creator can answer this invitation."))
    if collaboration.status == CollaborationStatus.DECLINED:
        return collaboration
    _check_transition(collaboration, CollaborationStatus.DECLINED)
    collaboration.status = CollaborationStatus.DECLINED
    collaboration.save(update_fields=["status", "updated_at"])
    _audit(actor, collaboration, "invitation_declined", CollaborationStatus.INVITED)
    notify(
        users=_brand_team(collaboration.campaign),
        template="invitation_declined",
        context={"collaboration": collaboration, "campaign": collaboration.campaign},
    )
    return collaboration


@transaction.atomic
def collaboration_remove(
    *, collaboration: Collaboration, actor: User, reason: str = ""
) -> Collaboration:
    """The brand removes a creator: from now on their link and code attribute nothing."""
    collaboration = _lock(collaboration)
    require_brand_member(actor, collaboration.campaign.brand)
    if collaboration.status == CollaborationStatus.REMOVED:
        return collaboration
    _check_transition(collaboration, CollaborationStatus.REMOVED)
    collaboration.status = CollaborationStatus.REMOVED
    collaboration.removed_at = timezone.now()
    collaboration.decision_reason = reason.strip()
    collaboration.save(update_fields=["status", "removed_at", "decision_reason", "updated_at"])
    tracking_cache_forget(tracking_codes=[collaboration.tracking_code])
    _audit(
        actor,
        collaboration,
        "removed",
        CollaborationStatus.ACTIVE,
        reason=collaboration.decision_reason,
    )
    notify(
        users=[collaboration.creator.user],
        template="collaboration_removed",
        context={"collaboration": collaboration, "campaign": collaboration.campaign},
    )
    return collaboration


@transaction.atomic
def collaboration_set_discount_code(
    *, collaboration: Collaboration, actor: User, code: str
) -> Collaboration:
    """The brand sets the creator's discount code (unique in the brand, any letter case)."""
    collaboration = _lock(collaboration)
    require_brand_member(actor, collaboration.campaign.brand)
    if collaboration.status != CollaborationStatus.ACTIVE:
        raise ValidationError(_("Only active collaborations have a discount code."))
    before = collaboration.discount_code or ""
    collaboration.discount_code = _free_discount_code(collaboration, code)
    try:
        with transaction.atomic():
            collaboration.save(update_fields=["discount_code", "updated_at"])
    except IntegrityError as exc:
        raise ValidationError(
            {"discount_code": _("This discount code is already used in your brand.")}
        ) from exc
    audit_record(
        actor=actor,
        action="campaigns.collaboration.discount_code_changed",
        target=collaboration,
        before={"discount_code": before},
        after={"discount_code": collaboration.discount_code},
    )
    return collaboration
