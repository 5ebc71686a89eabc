"""Who may act for a brand."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from campaigns.models import Brand, BrandMembership, BrandRole
from connect.models import User


def brand_role(user: User, brand: Brand) -> str | None:
    """The user's role in the brand, or None when they are not a member."""
    if not user.is_authenticated:
        return None
    return (
        BrandMembership.objects.filter(brand=brand, user=user)
        .values_list("role", flat=True)
        .first()
    )


def require_brand_member(user: User, brand: Brand, *, owner: bool = False) -> str:
    """Raise PermissionDenied unless the user is a member (or, with owner=True, an owner)."""
    role = brand_role(user, brand)
    if role is None or (owner and role != BrandRole.OWNER):
        raise PermissionDenied(
            _("Only the brand's owners can do this.")
            if owner and role
            else _("You are not a member of this brand.")
        )
    return role


def require_staff(user: User) -> None:
    if not (user.is_authenticated and user.is_staff):
        raise PermissionDenied(_("Only staff can do this."))
