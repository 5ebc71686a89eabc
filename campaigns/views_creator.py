"""The creator side of campaigns: the marketplace, joining and applying, invitations, and
each collaboration's link, code and QR code. Views validate with forms and call services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_countries import countries

from campaigns.forms_creator import ApplicationForm, MarketplaceFilterForm
from campaigns.markdown import render_markdown
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Collaboration,
    CollaborationStatus,
    JoinMode,
)
from campaigns.qr import qr_png, qr_svg, tracking_link
from campaigns.selectors import (
    campaign_ineligibility_reasons,
    collaboration_click_count,
    creator_collaboration_list,
    marketplace_campaign_list,
    with_current_terms,
)
from campaigns.services.collaborations import (
    collaboration_accept_invitation,
    collaboration_decline,
    collaboration_join,
)
from connect.models import CreatorProfile
from connect.permissions import creator_required

MARKETPLACE_PAGE_SIZE = 12
COLLABORATIONS_PAGE_SIZE = 20

# The tabs of "My collaborations" and the statuses each one shows.
COLLABORATION_TABS: dict[str, tuple[str, ...]] = {
    "all": (
        CollaborationStatus.ACTIVE,
        CollaborationStatus.APPLIED,
        CollaborationStatus.REJECTED,
        CollaborationStatus.DECLINED,
        CollaborationStatus.REMOVED,
    ),
    "active": (CollaborationStatus.ACTIVE,),
    "applied": (CollaborationStatus.APPLIED,),
    "closed": (
        CollaborationStatus.REJECTED,
        CollaborationStatus.DECLINED,
        CollaborationStatus.REMOVED,
    ),
}


def _creator(request: HttpRequest) -> CreatorProfile:
    return request.user.creator_profile  # type: ignore[union-attr]


def _country_names(codes: list[str]) -> list[str]:
    return sorted(str(countries.name(code)) for code in codes)


# ---------------------------------------------------------------------------- marketplace


@dataclass(frozen=True)
class CampaignCard:
    """One marketplace card: the campaign and what it means for this creator."""

    campaign: Campaign
    status: str | None
    reasons: list[str]

    @property
    def eligible(self) -> bool:
        return not self.reasons


@creator_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    """Active campaigns a creator can browse, with whether they may join each one."""
    creator = _creator(request)
    form = MarketplaceFilterForm(request.GET or None)
    paginator = Paginator(marketplace_campaign_list(form.to_filters()), MARKETPLACE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    statuses = dict(
        Collaboration.objects.filter(
            creator=creator, campaign_id__in=[c.pk for c in page.object_list]
        ).values_list("campaign_id", "status")
    )
    cards = [
        CampaignCard(
            campaign=campaign,
            status=statuses.get(campaign.pk),
            reasons=campaign_ineligibility_reasons(campaign, creator),
        )
        for campaign in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "campaigns/creator/campaign_list.html",
        {"form": form, "page": page, "cards": cards, "querystring": query.urlencode()},
    )


def _campaign_for_creator(campaign_id: int, creator: CreatorProfile) -> Campaign:
    """A campaign with its terms in force, as a creator may see it.

    Drafts stay hidden unless the brand already invited this creator; paused and ended
    campaigns stay readable, since creators arrive at them from old links and emails.
    """
    campaign = (
        with_current_terms(Campaign.objects.select_related("brand", "niche"))
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise Http404(_("No such campaign."))
    if campaign.status == CampaignStatus.DRAFT and not (
        Collaboration.objects.filter(campaign=campaign, creator=creator).exists()
    ):
        raise Http404(_("No such campaign."))
    return campaign


def _render_campaign_detail(
    request: HttpRequest,
    campaign: Campaign,
    creator: CreatorProfile,
    *,
    form: ApplicationForm | None = None,
    join_error: str = "",
    status: int = 200,
) -> HttpResponse:
    collaboration = Collaboration.objects.filter(campaign=campaign, creator=creator).first()
    reasons = campaign_ineligibility_reasons(campaign, creator)
    if campaign.join_mode == JoinMode.APPLICATION and form is None:
        form = ApplicationForm()
    context: dict[str, Any] = {
        "campaign": campaign,
        # Brands write briefs in Markdown; render_markdown sanitizes the HTML.
        "brief_html": render_markdown(campaign.brief),
        "collaboration": collaboration,
        "reasons": reasons,
        "eligible": not reasons,
        "form": form,
        "join_error": join_error,
        "target_countries": _country_names(campaign.target_countries),
        "eligible_countries": _country_names(campaign.eligible_countries),
        "creator": creator,
        "meets_followers": creator.max_followers >= campaign.min_followers,
        "meets_country": (
            not campaign.eligible_countries or creator.country.code in campaign.eligible_countries
        ),
    }
    return render(request, "campaigns/creator/campaign_detail.html", context, status=status)


@creator_required
@require_GET
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    creator = _creator(request)
    campaign = _campaign_for_creator(campaign_id, creator)
    return _render_campaign_detail(request, campaign, creator)


@creator_required
@require_POST
def campaign_join(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Join an open campaign at once, or apply with a pitch; the service decides who may."""
    creator = _creator(request)
    campaign = _campaign_for_creator(campaign_id, creator)
    form: ApplicationForm | None = None
    pitch = ""
    if campaign.join_mode == JoinMode.APPLICATION:
        form = ApplicationForm(request.POST)
        if not form.is_valid():
            return _render_campaign_detail(request, campaign, creator, form=form)
        pitch = form.cleaned_data["pitch"]
    try:
        collaboration = collaboration_join(campaign=campaign, creator=creator, pitch=pitch)
    except PermissionDenied as exc:
        return _render_campaign_detail(
            request, campaign, creator, form=form, join_error=str(exc), status=403
        )
    except ValidationError as exc:
        if form is not None and hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return _render_campaign_detail(request, campaign, creator, form=form)
        return _render_campaign_detail(
            request, campaign, creator, form=form, join_error=" ".join(exc.messages), status=400
        )
    if collaboration.status == CollaborationStatus.ACTIVE:
        messages.success(
            request, _("You joined %(campaign)s. Share your link below.") % {"campaign": campaign}
        )
    else:
        messages.success(
            request,
            _("Your application to %(campaign)s is sent. We will email you when %(brand)s decides.")
            % {"campaign": campaign, "brand": campaign.brand},
        )
    return redirect("marketplace:collaboration_detail", collaboration_id=collaboration.pk)


# ------------------------------------------------------------------------- collaborations


@creator_required
@require_GET
def collaboration_list(request: HttpRequest) -> HttpResponse:
    """Invitations waiting for an answer first, then every collaboration by tab."""
    creator = _creator(request)
    collaborations = creator_collaboration_list(creator)
    invitations = list(collaborations.filter(status=CollaborationStatus.INVITED))
    counts = dict(
        Collaboration.objects.filter(creator=creator)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    tab = request.GET.get("tab", "all")
    if tab not in COLLABORATION_TABS:
        tab = "all"
    tabs = [
        {
            "key": key,
            "label": label,
            "count": sum(counts.get(status, 0) for status in COLLABORATION_TABS[key]),
        }
        for key, label in (
            ("all", _("All")),
            ("active", _("Active")),
            ("applied", _("Applied")),
            ("closed", _("Closed")),
        )
    ]
    paginator = Paginator(
        collaborations.filter(status__in=COLLABORATION_TABS[tab]), COLLABORATIONS_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/creator/collaboration_list.html",
        {
            "invitations": invitations,
            "page": page,
            "tab": tab,
            "tabs": tabs,
            "has_any": tabs[0]["count"] > 0,
        },
    )


def _own_collaboration(request: HttpRequest, collaboration_id: int) -> Collaboration:
    """The signed-in creator's collaboration; anyone else's is a 404, not a 403, so that
    collaboration ids reveal nothing."""
    collaboration = (
        Collaboration.objects.select_related("campaign", "campaign__brand")
        .filter(pk=collaboration_id, creator=_creator(request))
        .first()
    )
    if collaboration is None:
        raise Http404(_("No such collaboration."))
    return collaboration


@creator_required
@require_GET
def collaboration_detail(request: HttpRequest, collaboration_id: int) -> HttpResponse:
    """The creator's link, code, QR code, clicks and the terms in force."""
    collaboration = _own_collaboration(request, collaboration_id)
    campaign = with_current_terms(
        Campaign.objects.select_related("brand", "niche").filter(pk=collaboration.campaign_id)
    ).get()
    is_active = collaboration.status == CollaborationStatus.ACTIVE
    return render(
        request,
        "campaigns/creator/collaboration_detail.html",
        {
            "collaboration": collaboration,
            "campaign": campaign,
            "is_active": is_active,
            "link": tracking_link(collaboration) if is_active else "",
            "clicks": collaboration_click_count(collaboration),
            "campaign_running": campaign.status == CampaignStatus.ACTIVE,
        },
    )


def _own_active_link(request: HttpRequest, collaboration_id: int) -> tuple[Collaboration, str]:
    collaboration = _own_collaboration(request, collaboration_id)
    if collaboration.status != CollaborationStatus.ACTIVE or not collaboration.tracking_code:
        raise Http404(_("This collaboration has no tracking link."))
    return collaboration, tracking_link(collaboration)


def _image_response(content: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    # An SVG is a document that could carry script: never let a browser guess its type,
    # and keep it out of shared caches since it is one creator's link.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@creator_required
@require_GET
def collaboration_qr(request: HttpRequest, collaboration_id: int) -> HttpResponse:
    """The tracking link's QR code as SVG, for the page and for crisp printing."""
    _collaboration, link = _own_active_link(request, collaboration_id)
    return _image_response(qr_svg(link), "image/svg+xml")


@creator_required
@require_GET
def collaboration_qr_png(request: HttpRequest, collaboration_id: int) -> HttpResponse:
    """The tracking link's QR code as a PNG download, for apps that take no SVG."""
    collaboration, link = _own_active_link(request, collaboration_id)
    response = _image_response(qr_png(link), "image/png")
    response["Content-Disposition"] = (
        f'attachment; filename="connect-qr-{collaboration.tracking_code}.png"'
    )
    return response


@creator_required
@require_POST
def invitation_accept(request: HttpRequest, collaboration_id: int) -> HttpResponse:
    collaboration = _own_collaboration(request, collaboration_id)
    try:
        collaboration = collaboration_accept_invitation(
            collaboration=collaboration,
            actor=request.user,  # type: ignore[arg-type]
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message(exc))
        return redirect("marketplace:collaboration_list")
    messages.success(
        request,
        _("You joined %(campaign)s. Share your link below.") % {"campaign": collaboration.campaign},
    )
    return redirect("marketplace:collaboration_detail", collaboration_id=collaboration.pk)


@creator_required
@require_POST
def invitation_decline(request: HttpRequest, collaboration_id: int) -> HttpResponse:
    collaboration = _own_collaboration(request, collaboration_id)
    try:
        collaboration = collaboration_decline(
            collaboration=collaboration,
            actor=request.user,  # type: ignore[arg-type]
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message(exc))
        return redirect("marketplace:collaboration_list")
    messages.info(
        request,
        _("You declined the invitation to %(campaign)s. %(brand)s has been told.")
        % {"campaign": collaboration.campaign, "brand": collaboration.campaign.brand},
    )
    return redirect("marketplace:collaboration_list")


def _message(exc: PermissionDenied | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
