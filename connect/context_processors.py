from typing import Any

from django.conf import settings
from django.http import HttpRequest

from connect.permissions import can_browse_creator_directory


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the header needs to show the right menu for the user's roles."""
    user = getattr(request, "user", None)
    profile = getattr(user, "creator_profile", None) if user and user.is_authenticated else None
    return {
        "nav_creator_profile": profile,
        "nav_can_browse_directory": bool(user and can_browse_creator_directory(user)),
        "nav_languages": settings.LANGUAGES,
    }
