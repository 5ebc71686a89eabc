"""Creator handles: what is allowed in `/@<handle>`."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

HANDLE_PATTERN = re.compile(r"^[A-Za-z0-9_]{3,30}$")

# Words that would read as the platform speaking, or collide with our own paths.
RESERVED_HANDLES = frozenset(
    {
        "about",
        "account",
        "accounts",
        "admin",
        "administrator",
        "api",
        "app",
        "billing",
        "blog",
        "brand",
        "brands",
        "campaign",
        "campaigns",
        "connect",
        "contact",
        "creator",
        "creators",
        "dashboard",
        "docs",
        "earnings",
        "help",
        "healthz",
        "home",
        "info",
        "legal",
        "login",
        "logout",
        "mail",
        "marketplace",
        "me",
        "media",
        "moderator",
        "null",
        "official",
        "onboarding",
        "payout",
        "payouts",
        "privacy",
        "profile",
        "root",
        "security",
        "settings",
        "signup",
        "staff",
        "static",
        "support",
        "system",
        "team",
        "terms",
        "undefined",
        "user",
        "users",
        "www",
    }
)


def validate_handle(value: str) -> str:
    """Return the handle as typed (case kept for display) or raise a clear ValidationError."""
    handle = value.strip().removeprefix("@")
    if not HANDLE_PATTERN.fullmatch(handle):
        raise ValidationError(
            _("Use 3 to 30 characters: letters, digits and underscores only."),
            code="handle_format",
        )
    if handle.lower() in RESERVED_HANDLES:
        raise ValidationError(_("This handle is reserved. Please choose another."), code="reserved")
    return handle
