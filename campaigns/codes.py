"""Tracking codes (in links) and discount codes (typed at checkout)."""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# 62^10 ≈ 8·10^17 codes: short enough for a link, too many to guess.
_TRACKING_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789" + "01lIO"
TRACKING_CODE_LENGTH = 10
DISCOUNT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,32}$")


def new_tracking_code() -> str:
    return "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(TRACKING_CODE_LENGTH))


def validate_discount_code(value: str) -> str:
    code = value.strip()
    if not DISCOUNT_CODE_PATTERN.fullmatch(code):
        raise ValidationError(
            _("Use 3 to 32 letters, digits, hyphens or underscores."), code="discount_code"
        )
    return code.upper()


def discount_code_base(handle: str) -> str:
    """The code a creator's audience types: their handle in capitals, e.g. OLACREATES."""
    base = re.sub(r"[^A-Za-z0-9]", "", handle).upper()[:24]
    return base if len(base) >= 3 else f"{base}CODE"
