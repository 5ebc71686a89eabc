"""Pages for accounts and creator profiles. Views validate with forms and call services."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import set_language as django_set_language

from connect.forms import (
    CreatorProfileForm,
    DirectoryFilterForm,
    SocialAccountFormSet,
    apply_service_errors,
)
from connect.health import health_report
from connect.models import CreatorProfile
from connect.pagination import CappedPaginator
from connect.permissions import creator_required, directory_access_required
from connect.selectors import (
    DirectoryFilters,
    creator_directory_list,
    creator_profile_get_by_handle,
)
from connect.services import (
    SocialAccountInput,
    creator_profile_create,
    creator_profile_update,
    user_has_verified_email,
    user_language_set,
)


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "connect/landing.html")
    user = request.user
    profile = getattr(user, "creator_profile", None)
    if profile is None and user.brand_memberships.exists():
        # People who only act for brands start in their brand workspace.
        return redirect("brand:home")
    context = {
        "email_verified": user_has_verified_email(user),
        "profile": profile,
        "has_social": bool(profile and profile.social_accounts.exists()),
        "has_mfa": user.authenticator_set.exists(),  # type: ignore[attr-defined]
    }
    if profile is not None:
        counts = profile.collaborations.aggregate(
            active=Count("pk", filter=Q(status="active")),
            invited=Count("pk", filter=Q(status="invited")),
            applied=Count("pk", filter=Q(status="applied")),
        )
        context["collaboration_counts"] = counts
    return render(request, "connect/home.html", context)


def _social_inputs(formset: Any) -> list[SocialAccountInput]:
    inputs = [form.to_input() for form in formset.forms]
    return [item for item in inputs if item is not None]


@verified_email_required
def onboarding(request: HttpRequest) -> HttpResponse:
    if hasattr(request.user, "creator_profile"):
        return redirect("connect:profile_edit")
    form = CreatorProfileForm(request.POST or None, request.FILES or None)
    formset = SocialAccountFormSet(request.POST or None, prefix="social")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            profile = creator_profile_create(
                user=request.user,  # type: ignore[arg-type]
                handle=data["handle"],
                display_name=data["display_name"],
                bio=data["bio"],
                country=data["country"],
                languages=data["languages"],
                niches=list(data["niches"]),
                avatar=data["avatar"] or None,
                social_accounts=_social_inputs(formset),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Welcome to Connect! This is your public profile."))
            return redirect("connect:profile_public", handle=profile.handle)
    return render(
        request,
        "connect/profile_form.html",
        {"form": form, "formset": formset, "onboarding": True},
    )


@creator_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile: CreatorProfile = request.user.creator_profile  # type: ignore[union-attr]
    if request.method == "POST":
        form = CreatorProfileForm(request.POST, request.FILES)
        formset = SocialAccountFormSet(request.POST, prefix="social")
    else:
        form = CreatorProfileForm(
            initial={
                "handle": profile.handle,
                "display_name": profile.display_name,
                "bio": profile.bio,
                "country": profile.country.code,
                "languages": profile.languages,
                "niches": list(profile.niches.values_list("slug", flat=True)),
            }
        )
        formset = SocialAccountFormSet(
            prefix="social",
            initial=[
                {"platform": a.platform, "handle_or_url": a.url, "follower_count": a.follower_count}
                for a in profile.social_accounts.all()
            ],
        )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        avatar = data["avatar"] or None
        try:
            profile = creator_profile_update(
                profile=profile,
                actor=request.user,  # type: ignore[arg-type]
                handle=data["handle"],
                display_name=data["display_name"],
                bio=data["bio"],
                country=data["country"],
                languages=data["languages"],
                niches=list(data["niches"]),
                avatar=avatar,
                remove_avatar=data["avatar"] is False,
                social_accounts=_social_inputs(formset),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("connect:profile_public", handle=profile.handle)
    return render(
        request,
        "connect/profile_form.html",
        {"form": form, "formset": formset, "onboarding": False, "profile": profile},
    )


def profile_public(request: HttpRequest, handle: str) -> HttpResponse:
    profile = creator_profile_get_by_handle(handle)
    if profile is None:
        raise Http404(_("No creator has this handle."))
    if profile.handle != handle:
        return redirect("connect:profile_public", handle=profile.handle, permanent=True)
    is_owner = request.user.is_authenticated and request.user.pk == profile.user_id
    return render(
        request, "connect/profile_public.html", {"profile": profile, "is_owner": is_owner}
    )


DIRECTORY_PAGE_SIZE = 24


@directory_access_required
def creator_directory(request: HttpRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None)
    filters = DirectoryFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = DirectoryFilters(
            query=data["q"],
            niche=data["niche"].slug if data["niche"] else "",
            country=data["country"] or "",
            followers_min=data["followers_min"],
            followers_max=data["followers_max"],
            sort=data["sort"] or "followers",
        )
    try:
        requested_page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        requested_page = 1
    paginator = CappedPaginator(
        creator_directory_list(filters), DIRECTORY_PAGE_SIZE, requested_page=requested_page
    )
    page = paginator.get_page(requested_page)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "connect/directory.html",
        {"form": form, "page": page, "querystring": query.urlencode()},
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse("User-agent: *\nDisallow: /accounts/\n", content_type="text/plain")


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also remembers the choice on the user's account."""
    response = django_set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        user_language_set(user=request.user, language=request.POST.get("language", ""))
    return response
