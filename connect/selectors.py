"""Reads for creator profiles and the creator directory."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from connect.models import CreatorProfile, Niche


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
    profiles = CreatorProfile.objects.filter(user__is_active=True)
    query = filters.query.strip().removeprefix("@")
    if query:
        profiles = profiles.filter(Q(display_name__icontains=query) | Q(handle__icontains=query))
    if filters.niche:
        profiles = profiles.filter(niches__slug=filters.niche)
    if filters.country:
        profiles = profiles.filter(country=filters.country)
    if filters.followers_min is not None:
        profiles = profiles.filter(max_followers__gte=filters.followers_min)
    if filters.followers_max is not None:
        profiles = profiles.filter(max_followers__lte=filters.followers_max)
    order = DIRECTORY_SORTS.get(filters.sort, DIRECTORY_SORTS["followers"])
    return profiles.order_by(*order).prefetch_related("niches")
