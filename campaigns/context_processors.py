"""The brand a user acts for, kept in the session, for the header and the brand pages.

A user may belong to several brands; they act for one at a time (the "active" brand) and
switch with `/brand/switch/<slug>/`. The session only remembers a choice: every read checks
the membership again, so a removed member's stale session grants nothing.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from campaigns.models import Brand, Campaign, CampaignStatus
from campaigns.selectors import brands_for_user

ACTIVE_BRAND_SESSION_KEY = "active_brand_id"
INVITABLE_STATUSES = (CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED)


def user_brands(request: HttpRequest) -> list[Brand]:
    """The brands the signed-in user belongs to, read once per request."""
    cached: list[Brand] | None = getattr(request, "_user_brands", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = list(brands_for_user(user)) if user is not None else []
        request._user_brands = cached  # type: ignore[attr-defined]
    return cached


def active_brand(request: HttpRequest) -> Brand | None:
    """The brand chosen in the session, or the user's first brand when none (still) is."""
    brands = user_brands(request)
    if not brands:
        return None
    chosen = request.session.get(ACTIVE_BRAND_SESSION_KEY)
    return next((brand for brand in brands if brand.pk == chosen), brands[0])


def set_active_brand(request: HttpRequest, brand: Brand) -> None:
    request.session[ACTIVE_BRAND_SESSION_KEY] = brand.pk
    if hasattr(request, "_user_brands") and brand not in request._user_brands:
        del request._user_brands


def invitable_campaigns(brand: Brand | None) -> list[Campaign]:
    """The campaigns a creator can still be invited to (the directory's invite menu)."""
    if brand is None:
        return []
    return list(
        Campaign.objects.filter(brand=brand, status__in=INVITABLE_STATUSES).order_by(
            "status", "title"
        )
    )


def brand_navigation(request: HttpRequest) -> dict[str, Any]:
    """The brands the user acts for and the one they act for now (header switcher).

    Lazy, so that pages which never mention brands cost no query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_brands": [], "nav_active_brand": None, "nav_invite_campaigns": []}
    brand = SimpleLazyObject(lambda: active_brand(request))
    return {
        "nav_brands": SimpleLazyObject(lambda: user_brands(request)),
        "nav_active_brand": brand,
        "nav_invite_campaigns": SimpleLazyObject(
            lambda: invitable_campaigns(active_brand(request))
        ),
    }
