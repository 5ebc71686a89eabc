"""Reads for creator profiles and the creator directory."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Concat, Lower

from connect.models import CreatorProfile, Niche, User


def creator_profile_get_by_handle(handle: str) -> CreatorProfile | None:
    """The profile behind `/@<handle>`, in any letter case (uses the LOWER(handle) index)."""
    return (
        CreatorProfile.objects.annotate(handle_lower=Lower("handle"))
        .filter(handle_lower=handle.lower(), user__is_active=True)
        .select_related("user")
        .prefetch_related("niches", "social_accounts")
        .first()
    )


def niche_list() -> QuerySet[Niche]:
    return Niche.objects.all()


DIRECTORY_SORTS = {
    "followers": ("-max_followers", "id"),
    "newest": ("-created_at", "id"),
    "name": ("display_name", "id"),
}
# With a text search the same orders go through expressions that no index serves, so the
# planner always takes the trigram indexes first and sorts the matches. Left to itself, it
# sometimes walks a sort index hoping to meet enough matches early, which is fast for a
# common substring and a hundred times slower for a rare name.
DIRECTORY_SEARCH_SORTS = {
    "followers": ((F("max_followers") + 0).desc(), "id"),
    "newest": ((F("created_at") + dt.timedelta(0)).desc(), "id"),
    "name": (Concat("display_name", Value("")), "id"),
}


@dataclass(frozen=True)
class DirectoryFilters:
    query: str = ""
    niche: str = ""
    country: str = ""
    followers_min: int | None = None
    followers_max: int | None = None
    sort: str = "followers"


def creator_directory_list(filters: DirectoryFilters) -> QuerySet[CreatorProfile]:
    """Creators matching the directory's search and filters, in the chosen order.

    Text search is a substring match on display name or handle, served by trigram indexes;
    the follower range filters the `max_followers` rollup.
    """
    # Excluding the few inactive users (a partial index) is far cheaper than joining all.
    profiles = CreatorProfile.objects.exclude(
        user__in=User.objects.filter(is_active=False).values("pk")
    )
    query = filters.query.strip().removeprefix("@")
    if query:
        profiles = profiles.filter(Q(display_name__icontains=query) | Q(handle__icontains=query))
    if filters.niche:
        # By id: through the slug join the planner cannot see which niche it filters on.
        niche_id = Niche.objects.filter(slug=filters.niche).values_list("pk", flat=True).first()
        profiles = profiles.filter(niches=niche_id) if niche_id else profiles.none()
    if filters.country:
        profiles = profiles.filter(country=filters.country)
    if filters.followers_min is not None:
        profiles = profiles.filter(max_followers__gte=filters.followers_min)
    if filters.followers_max is not None:
        profiles = profiles.filter(max_followers__lte=filters.followers_max)
    sorts = DIRECTORY_SEARCH_SORTS if query else DIRECTORY_SORTS
    order = sorts.get(filters.sort, sorts["followers"])
    return profiles.order_by(*order).prefetch_related("niches")
