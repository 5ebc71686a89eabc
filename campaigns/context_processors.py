from typing import Any

from django.http import HttpRequest


def brand_navigation(request: HttpRequest) -> dict[str, Any]:
    """The brands the user acts for and the one they act for now (header switcher)."""
    return {}
