"""Social accounts: parse a handle or profile URL per platform into a canonical form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from connect.models import SocialPlatform

MAX_FOLLOWERS = 10_000_000_000


@dataclass(frozen=True)
class PlatformRule:
    hosts: frozenset[str]
    handle: re.Pattern[str]
    url_template: str
    # How the handle sits in the URL path: "/name", "/@name".
    path_prefix: str


PLATFORM_RULES: dict[str, PlatformRule] = {
    SocialPlatform.INSTAGRAM: PlatformRule(
        frozenset({"instagram.com", "www.instagram.com"}),
        re.compile(r"^(?!.*\.\.)(?!\.)[A-Za-z0-9._]{1,30}(?<!\.)$"),
        "https://www.instagram.com/{}/",
        "/",
    ),
    SocialPlatform.TIKTOK: PlatformRule(
        frozenset({"tiktok.com", "www.tiktok.com"}),
        re.compile(r"^[A-Za-z0-9._]{2,24}$"),
        "https://www.tiktok.com/@{}",
        "/@",
    ),
    SocialPlatform.YOUTUBE: PlatformRule(
        frozenset({"youtube.com", "www.youtube.com", "m.youtube.com"}),
        re.compile(r"^[A-Za-z0-9._-]{3,30}$"),
        "https://www.youtube.com/@{}",
        "/@",
    ),
    SocialPlatform.X: PlatformRule(
        frozenset({"x.com", "www.x.com", "twitter.com", "www.twitter.com"}),
        re.compile(r"^[A-Za-z0-9_]{1,15}$"),
        "https://x.com/{}",
        "/",
    ),
    SocialPlatform.TWITCH: PlatformRule(
        frozenset({"twitch.tv", "www.twitch.tv", "m.twitch.tv"}),
        re.compile(r"^[A-Za-z0-9_]{4,25}$"),
        "https://www.twitch.tv/{}",
        "/",
    ),
}


@dataclass(frozen=True)
class ParsedSocialAccount:
    platform: str
    handle: str
    url: str


def _looks_like_url(value: str) -> bool:
    return "/" in value or value.lower().startswith(("http:", "https:", "www."))


def parse_social_account(platform: str, value: str) -> ParsedSocialAccount:
    """Turn what the creator typed (a handle, "@handle" or a profile URL) into a canonical
    handle and https URL for the platform, or raise a ValidationError that says why."""
    value = value.strip()
    if not value:
        raise ValidationError(_("Enter a handle or a profile URL."), code="required")
    if platform == SocialPlatform.OTHER:
        return _parse_other(value)
    rule = PLATFORM_RULES.get(platform)
    if rule is None:
        raise ValidationError(_("Choose a platform."), code="platform")
    label = str(SocialPlatform(platform).label)
    if _looks_like_url(value):
        handle = _handle_from_url(rule, value, label)
    else:
        handle = value.removeprefix("@")
    if not rule.handle.fullmatch(handle):
        raise ValidationError(
            _("“%(handle)s” is not a valid %(platform)s handle.")
            % {"handle": handle, "platform": label},
            code="handle",
        )
    return ParsedSocialAccount(
        platform=platform, handle=handle, url=rule.url_template.format(handle)
    )


def _handle_from_url(rule: PlatformRule, value: str, label: str) -> str:
    url = value if "://" in value else f"https://{value}"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or host not in rule.hosts:
        raise ValidationError(
            _("This is not a %(platform)s profile URL.") % {"platform": label}, code="host"
        )
    path = parts.path.rstrip("/")
    if not path.startswith(rule.path_prefix) or "/" in path[len(rule.path_prefix) :]:
        raise ValidationError(
            _("This %(platform)s URL does not point to a profile.") % {"platform": label},
            code="path",
        )
    return path[len(rule.path_prefix) :]


def _parse_other(value: str) -> ParsedSocialAccount:
    url = value if "://" in value else f"https://{value}"
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError as exc:
        raise ValidationError(
            _("For other platforms, enter the full profile URL."), code="url"
        ) from exc
    parts = urlsplit(url)
    if parts.scheme != "https":
        url = parts._replace(scheme="https").geturl()
    handle = (parts.path.strip("/") or parts.hostname or "")[:100]
    return ParsedSocialAccount(platform=SocialPlatform.OTHER, handle=handle, url=url)


def validate_follower_count(value: int) -> int:
    if value < 0 or value > MAX_FOLLOWERS:
        raise ValidationError(
            _("Enter a follower count between 0 and 10 billion."), code="followers"
        )
    return value
