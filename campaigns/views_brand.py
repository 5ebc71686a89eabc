"""The brand side in the browser: brand signup, the team, campaigns and creator reviews.

Views validate with forms and call services; the services decide and may refuse. Every
object is looked up through the signed-in user's memberships, so another brand's campaign,
collaboration or member is a 404 here before any service is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_countries import countries

from campaigns.context_processors import (
    active_brand,
    set_active_brand,
    user_brands,
)
from campaigns.forms import (
    AcceptApplicationForm,
    BrandForm,
    BrandMemberInviteForm,
    CampaignForm,
    DiscountCodeForm,
    InviteCreatorForm,
    RejectApplicationForm,
    RemoveCreatorForm,
)
from campaigns.markdown import render_markdown
from campaigns.models import (
    Brand,
    BrandInvitation,
    BrandMembership,
    BrandRole,
    Campaign,
    CampaignStatus,
    Collaboration,
    CollaborationStatus,
)
from campaigns.permissions import brand_role
from campaigns.selectors import (
    MarketplaceFilters,
    brand_campaign_list,
    brand_members,
    campaign_collaboration_list,
    marketplace_campaign_list,
)
from campaigns.services import (
    brand_create,
    brand_invitation_accept,
    brand_member_invite,
    brand_member_remove,
    campaign_create,
    campaign_end,
    campaign_pause,
    campaign_publish,
    campaign_resume,
    campaign_update,
    collaboration_accept,
    collaboration_invite,
    collaboration_reject,
    collaboration_remove,
    collaboration_set_discount_code,
)
from campaigns.services.campaigns import campaign_current_terms
from connect.forms import apply_service_errors
from connect.models import User
from connect.selectors import creator_profile_get_by_handle
from connect.services import user_has_verified_email

View = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _belongs_to_form(form: Form, exc: ValidationError) -> bool:
    """Whether a service error names one of the form's fields (else it is about the state)."""
    if hasattr(exc, "error_dict"):
        return any(key in form.fields for key in exc.error_dict)
    return any(error.code in form.fields for error in exc.error_list)


def _error_text(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You are not allowed to do this.")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def brand_required(view: View) -> View:
    """A page about the active brand: signed in and a member of at least one brand.

    The view receives the active brand; users without a brand are sent to the brand home,
    which offers to create one.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        brand = active_brand(request)
        if brand is None:
            return redirect("brand:home")
        return view(request, brand, *args, **kwargs)

    return login_required(wrapper)


def _member_campaign(request: HttpRequest, pk: int) -> Campaign:
    """The campaign if the user belongs to its brand; 404 otherwise, as if it did not exist.

    Opening a campaign of another of the user's brands makes that brand the active one, so
    the header always names the brand whose page this is.
    """
    campaign = get_object_or_404(
        Campaign.objects.select_related("brand", "niche"),
        pk=pk,
        brand__memberships__user=_user(request),
    )
    set_active_brand(request, campaign.brand)
    return campaign


def _member_collaboration(request: HttpRequest, pk: int) -> Collaboration:
    collaboration = get_object_or_404(
        Collaboration.objects.select_related("campaign", "campaign__brand", "creator"),
        pk=pk,
        campaign__brand__memberships__user=_user(request),
    )
    set_active_brand(request, collaboration.campaign.brand)
    return collaboration


def _brand_context(request: HttpRequest, brand: Brand, section: str) -> dict[str, Any]:
    """What the brand header (name, status, switcher, tabs) needs on every brand page."""
    return {
        "brand": brand,
        "brand_role": brand_role(_user(request), brand),
        "brands": user_brands(request),
        "section": section,
    }


# Brand signup, home, public page and switching


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The brand's dashboard, or an invitation to create a brand for users without one."""
    brand = active_brand(request)
    if brand is None:
        return render(
            request,
            "campaigns/brand/start.html",
            {"email_verified": user_has_verified_email(_user(request))},
        )
    campaigns = list(brand_campaign_list(brand))
    context = _brand_context(request, brand, "home")
    context.update(
        campaigns=campaigns,
        counts={
            "active": sum(1 for c in campaigns if c.status == CampaignStatus.ACTIVE),
            # active_count and pending_count are annotations of brand_campaign_list.
            "creators": sum(int(getattr(c, "active_count", 0)) for c in campaigns),
            "pending": sum(int(getattr(c, "pending_count", 0)) for c in campaigns),
            "members": brand.memberships.count(),
        },
    )
    return render(request, "campaigns/brand/home.html", context)


@verified_email_required
def create(request: HttpRequest) -> HttpResponse:
    """ "I represent a brand": a verified user creates a brand and becomes its owner."""
    form = BrandForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            brand = brand_create(
                user=_user(request),
                name=data["name"],
                slug=data["slug"] or data["name"],
                website=data["website"],
                country=data["country"],
                description=data["description"],
                logo=data["logo"] or None,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, _error_text(exc))
        else:
            set_active_brand(request, brand)
            messages.success(
                request,
                _(
                    "%(brand)s is created. You can draft campaigns now; you can publish them "
                    "once our team has verified the brand."
                )
                % {"brand": brand.name},
            )
            return redirect("brand:home")
    return render(request, "campaigns/brand/create.html", {"form": form})


def public(request: HttpRequest, slug: str) -> HttpResponse:
    """The brand's public page with the campaigns creators can join now."""
    brand = get_object_or_404(Brand, slug=slug, suspended_at__isnull=True)
    campaigns = marketplace_campaign_list(MarketplaceFilters()).filter(brand=brand)
    return render(
        request,
        "campaigns/brand_public.html",
        {
            "brand": brand,
            "campaigns": campaigns,
            "is_member": brand_role(_user(request), brand) is not None,
        },
    )


@login_required
@require_POST
def switch(request: HttpRequest, slug: str) -> HttpResponse:
    brand = next((b for b in user_brands(request) if b.slug == slug), None)
    if brand is None:
        raise Http404(_("You are not a member of this brand."))
    set_active_brand(request, brand)
    messages.info(request, _("You are now acting for %(brand)s.") % {"brand": brand.name})
    return redirect(_safe_next(request, reverse("brand:home")))


# The team


@brand_required
def team(request: HttpRequest, brand: Brand) -> HttpResponse:
    """Members and open invitations; owners invite and remove people here."""
    role = brand_role(_user(request), brand)
    form = BrandMemberInviteForm(request.POST or None)
    if request.method == "POST":
        if role != BrandRole.OWNER:
            raise PermissionDenied(_("Only the brand's owners can do this."))
        if form.is_valid():
            try:
                invitation = brand_member_invite(
                    brand=brand,
                    actor=_user(request),
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("We emailed an invitation to %(email)s.") % {"email": invitation.email},
                )
                return redirect("brand:team")
    context = _brand_context(request, brand, "team")
    context.update(
        form=form,
        # Owners first: they are who a member asks for a change.
        members=sorted(brand_members(brand), key=lambda m: m.role != BrandRole.OWNER),
        invitations=brand.invitations.filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        ).select_related("invited_by"),
        is_owner=role == BrandRole.OWNER,
    )
    return render(request, "campaigns/brand/team.html", context)


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(
        BrandMembership.objects.select_related("brand", "user"),
        pk=pk,
        brand__memberships__user=_user(request),
    )
    leaving = membership.user_id == request.user.pk
    try:
        brand_member_remove(membership=membership, actor=_user(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("brand:team")
    if leaving:
        messages.success(request, _("You have left %(brand)s.") % {"brand": membership.brand.name})
        return redirect("brand:home")
    messages.success(
        request,
        _("%(email)s is no longer a member of %(brand)s.")
        % {"email": membership.user.email, "brand": membership.brand.name},
    )
    return redirect("brand:team")


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a team invitation email: sign in with the invited address, then accept."""
    invitation = get_object_or_404(
        BrandInvitation.objects.select_related("brand", "invited_by"),
        token=token,
        revoked_at__isnull=True,
    )
    user = _user(request)
    context: dict[str, Any] = {"invitation": invitation, "problem": ""}
    if user.is_authenticated:
        if BrandMembership.objects.filter(brand=invitation.brand, user=user).exists():
            set_active_brand(request, invitation.brand)
            return redirect("brand:home")
        if invitation.accepted_at is not None:
            context["problem"] = "used"
        elif user.email.lower() != invitation.email.lower():
            context["problem"] = "other_address"
        elif not user_has_verified_email(user):
            context["problem"] = "unverified"
        elif request.method == "POST":
            try:
                membership = brand_invitation_accept(token=token, user=user)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, _error_text(exc))
            else:
                set_active_brand(request, membership.brand)
                messages.success(
                    request,
                    _("Welcome to the %(brand)s team.") % {"brand": membership.brand.name},
                )
                return redirect("brand:home")
    return render(request, "campaigns/brand/invitation.html", context)


# Campaigns


@brand_required
def campaign_list(request: HttpRequest, brand: Brand) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in CampaignStatus.values:
        status = ""
    campaigns = brand_campaign_list(brand)
    counts = brand.campaigns.aggregate(
        all=Count("pk"),
        **{value: Count("pk", filter=Q(status=value)) for value in CampaignStatus.values},
    )
    context = _brand_context(request, brand, "campaigns")
    context.update(
        campaigns=campaigns.filter(status=status) if status else campaigns,
        status=status,
        tabs=[("", _("All"), counts["all"])]
        + [(value, label, counts[value]) for value, label in CampaignStatus.choices],
    )
    return render(request, "campaigns/brand/campaign_list.html", context)


@brand_required
def campaign_create_view(request: HttpRequest, brand: Brand) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data, terms = form.to_inputs()
        try:
            campaign = campaign_create(brand=brand, actor=_user(request), data=data, terms=terms)
        except ValidationError as exc:
            apply_service_errors(form, exc, CampaignForm.SERVICE_FIELD_NAMES)
        else:
            messages.success(
                request,
                _("The campaign is saved as a draft. Publish it when you are ready."),
            )
            return redirect("brand:campaign_detail", pk=campaign.pk)
    context = _brand_context(request, brand, "campaigns")
    context.update(form=form, campaign=None)
    return render(request, "campaigns/brand/campaign_form.html", context)


@login_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _member_campaign(request, pk)
    if campaign.status == CampaignStatus.ENDED:
        messages.error(request, _("An ended campaign cannot be changed."))
        return redirect("brand:campaign_detail", pk=campaign.pk)
    terms = campaign_current_terms(campaign)
    form = CampaignForm(
        request.POST or None,
        initial=CampaignForm.initial_for(campaign, terms),
        currency_locked=campaign.status != CampaignStatus.DRAFT,
    )
    if request.method == "POST" and form.is_valid():
        data, new_terms = form.to_inputs()
        try:
            campaign_update(campaign=campaign, actor=_user(request), data=data, terms=new_terms)
        except ValidationError as exc:
            apply_service_errors(form, exc, CampaignForm.SERVICE_FIELD_NAMES)
        else:
            changed = campaign_current_terms(campaign) != terms
            if changed and campaign.status != CampaignStatus.DRAFT:
                messages.success(
                    request,
                    _(
                        "Saved. The new commission terms apply to orders from now on; "
                        "the creators in this campaign are being emailed."
                    ),
                )
            else:
                messages.success(request, _("The campaign is saved."))
            return redirect("brand:campaign_detail", pk=campaign.pk)
    context = _brand_context(request, campaign.brand, "campaigns")
    context.update(
        form=form,
        campaign=campaign,
        active_creators=campaign.collaborations.filter(status=CollaborationStatus.ACTIVE).count(),
    )
    return render(request, "campaigns/brand/campaign_form.html", context)


def _with_row_forms(
    collaborations: list[Collaboration], bound: dict[tuple[int, str], Form]
) -> list[Collaboration]:
    """Give each collaboration row its own small forms, or the bound one that failed."""
    for c in collaborations:
        if c.status == CollaborationStatus.APPLIED:
            c.accept_form = bound.get((c.pk, "accept")) or AcceptApplicationForm(row=c.pk)  # type: ignore[attr-defined]
            c.reject_form = bound.get((c.pk, "reject")) or RejectApplicationForm(row=c.pk)  # type: ignore[attr-defined]
        elif c.status == CollaborationStatus.ACTIVE:
            c.discount_form = bound.get((c.pk, "discount")) or DiscountCodeForm(  # type: ignore[attr-defined]
                row=c.pk, initial={"discount_code": c.discount_code}
            )
    return collaborations


def _render_campaign_detail(
    request: HttpRequest,
    campaign: Campaign,
    *,
    bound: dict[tuple[int, str], Form] | None = None,
    invite_form: InviteCreatorForm | None = None,
) -> HttpResponse:
    collaborations = _with_row_forms(list(campaign_collaboration_list(campaign)), bound or {})
    by_status: dict[str, list[Collaboration]] = {value: [] for value in CollaborationStatus.values}
    for c in collaborations:
        by_status[c.status].append(c)
    terms_history = list(campaign.terms.select_related("created_by"))
    context = _brand_context(request, campaign.brand, "campaigns")
    context.update(
        campaign=campaign,
        brief_html=render_markdown(campaign.brief),
        terms=terms_history[0] if terms_history else None,
        terms_history=terms_history,
        applications=by_status[CollaborationStatus.APPLIED],
        creators=by_status[CollaborationStatus.ACTIVE],
        invited=by_status[CollaborationStatus.INVITED],
        past=(
            by_status[CollaborationStatus.REMOVED]
            + by_status[CollaborationStatus.REJECTED]
            + by_status[CollaborationStatus.DECLINED]
        ),
        total_clicks=sum(int(getattr(c, "click_count", None) or 0) for c in collaborations),
        invite_form=invite_form or InviteCreatorForm(),
        can_invite=campaign.status != CampaignStatus.ENDED,
        target_countries=[countries.name(code) for code in campaign.target_countries],
        eligible_countries=[countries.name(code) for code in campaign.eligible_countries],
        transitions=Campaign.TRANSITIONS[campaign.status],
    )
    return render(request, "campaigns/brand/campaign_detail.html", context)


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_campaign_detail(request, _member_campaign(request, pk))


_TRANSITIONS: dict[str, tuple[Callable[..., Campaign], Any]] = {
    "publish": (campaign_publish, gettext_lazy("The campaign is live: creators can find it now.")),
    "pause": (
        campaign_pause,
        gettext_lazy("The campaign is paused: nobody new can join and links stop earning."),
    ),
    "resume": (campaign_resume, gettext_lazy("The campaign is live again.")),
    "end": (campaign_end, gettext_lazy("The campaign has ended.")),
}


@login_required
@require_POST
def campaign_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Publish, pause, resume or end; a refusal (unverified brand, ended campaign) is shown."""
    campaign = _member_campaign(request, pk)
    service, done = _TRANSITIONS[action]
    try:
        service(campaign=campaign, actor=_user(request))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, done)
    return redirect("brand:campaign_detail", pk=campaign.pk)


def _invite(request: HttpRequest, campaign: Campaign, handle: str) -> str | None:
    """Invite the creator behind `handle`; the error to show, or None when invited."""
    creator = creator_profile_get_by_handle(handle)
    if creator is None:
        return _("No creator has the handle @%(handle)s.") % {"handle": handle}
    try:
        collaboration_invite(campaign=campaign, creator=creator, actor=_user(request))
    except (ValidationError, PermissionDenied) as exc:
        return _error_text(exc)
    messages.success(
        request,
        _("We invited @%(handle)s to %(campaign)s.")
        % {"handle": creator.handle, "campaign": campaign.title},
    )
    return None


@login_required
@require_POST
def campaign_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite a creator by handle from the campaign page."""
    campaign = _member_campaign(request, pk)
    form = InviteCreatorForm(request.POST)
    if form.is_valid():
        error = _invite(request, campaign, form.cleaned_data["handle"])
        if error is None:
            return redirect(
                reverse("brand:campaign_detail", kwargs={"pk": campaign.pk}) + "#invited"
            )
        form.add_error("handle", error)
    return _render_campaign_detail(request, campaign, invite_form=form)


@login_required
@require_POST
def directory_invite(request: HttpRequest) -> HttpResponse:
    """The directory's "Invite to campaign" menu: a campaign of the user's brand, a handle."""
    fallback = reverse("connect:directory")
    campaign_id = request.POST.get("campaign", "")
    campaign = get_object_or_404(
        Campaign,
        pk=int(campaign_id) if campaign_id.isdigit() else 0,
        brand__memberships__user=_user(request),
    )
    error = _invite(request, campaign, request.POST.get("handle", "").strip().removeprefix("@"))
    if error is not None:
        messages.error(request, error)
    return redirect(_safe_next(request, fallback))


# Collaborations: the review queue, removal and discount codes


def _detail_anchor(collaboration: Collaboration, anchor: str) -> HttpResponseRedirect:
    url = reverse("brand:campaign_detail", kwargs={"pk": collaboration.campaign_id})
    return redirect(f"{url}#{anchor}")


@login_required
@require_POST
def collaboration_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    collaboration = _member_collaboration(request, pk)
    form = AcceptApplicationForm(request.POST, row=collaboration.pk)
    if form.is_valid():
        try:
            collaboration_accept(
                collaboration=collaboration,
                actor=_user(request),
                discount_code=form.cleaned_data["discount_code"] or None,
            )
        except ValidationError as exc:
            if not _belongs_to_form(form, exc):
                messages.error(request, _error_text(exc))
                return _detail_anchor(collaboration, "applications")
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("@%(handle)s is in: they have their link and discount code now.")
                % {"handle": collaboration.creator.handle},
            )
            return _detail_anchor(collaboration, "creators")
    return _render_campaign_detail(
        request, collaboration.campaign, bound={(collaboration.pk, "accept"): form}
    )


@login_required
@require_POST
def collaboration_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    collaboration = _member_collaboration(request, pk)
    form = RejectApplicationForm(request.POST, row=collaboration.pk)
    if form.is_valid():
        try:
            collaboration_reject(
                collaboration=collaboration,
                actor=_user(request),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            if not _belongs_to_form(form, exc):
                messages.error(request, _error_text(exc))
                return _detail_anchor(collaboration, "applications")
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("You declined @%(handle)s's application; we emailed them your reason.")
                % {"handle": collaboration.creator.handle},
            )
            return _detail_anchor(collaboration, "applications")
    return _render_campaign_detail(
        request, collaboration.campaign, bound={(collaboration.pk, "reject"): form}
    )


@login_required
def collaboration_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for confirmation (and an optional reason), then remove the creator."""
    collaboration = _member_collaboration(request, pk)
    if collaboration.status != CollaborationStatus.ACTIVE:
        messages.error(request, _("Only active creators can be removed."))
        return _detail_anchor(collaboration, "creators")
    form = RemoveCreatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collaboration_remove(
                collaboration=collaboration,
                actor=_user(request),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("@%(handle)s is removed: their link and code no longer earn commissions.")
                % {"handle": collaboration.creator.handle},
            )
            return _detail_anchor(collaboration, "creators")
    context = _brand_context(request, collaboration.campaign.brand, "campaigns")
    context.update(form=form, collaboration=collaboration, campaign=collaboration.campaign)
    return render(request, "campaigns/brand/collaboration_remove.html", context)


@login_required
@require_POST
def collaboration_discount_code(request: HttpRequest, pk: int) -> HttpResponse:
    collaboration = _member_collaboration(request, pk)
    form = DiscountCodeForm(request.POST, row=collaboration.pk)
    if form.is_valid():
        try:
            updated = collaboration_set_discount_code(
                collaboration=collaboration,
                actor=_user(request),
                code=form.cleaned_data["discount_code"],
            )
        except ValidationError as exc:
            if not _belongs_to_form(form, exc):
                messages.error(request, _error_text(exc))
                return _detail_anchor(collaboration, "creators")
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("@%(handle)s's discount code is now %(code)s.")
                % {"handle": collaboration.creator.handle, "code": updated.discount_code},
            )
            return _detail_anchor(collaboration, "creators")
    return _render_campaign_detail(
        request, collaboration.campaign, bound={(collaboration.pk, "discount"): form}
    )
