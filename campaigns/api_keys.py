"""Brand API keys: making, finding and revoking them, and the DRF authentication.

A key reads `ck_live_<prefix>_<secret>`; its format, hashing, lookup and revocation are
shared with creator tokens in `connect.secret_keys` (its docstring says why a SHA-256 of
a 256-bit secret, compared in constant time, is the right storage).
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from redis.exceptions import RedisError
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from campaigns.models import Brand, BrandApiKey
from campaigns.permissions import require_brand_member
from connect.audit import audit_record
from connect.models import User
from connect.secret_keys import (
    BRAND_API_KEY,
    CREATOR_TOKEN,
    NAME_MAX_LENGTH,
    bearer_credentials,
    secret_key_find,
    secret_key_revoke,
    secret_name_clean,
)

__all__ = [
    "NAME_MAX_LENGTH",
    "BrandApiKeyAuthentication",
    "HasBrandApiKey",
    "brand_api_key_authenticate",
    "brand_api_key_create",
    "brand_api_key_list",
    "brand_api_key_revoke",
    "parse_rate",
    "rate_window",
]

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Services


@transaction.atomic
def brand_api_key_create(*, brand: Brand, actor: User | None, name: str) -> tuple[BrandApiKey, str]:
    """Make a key for the brand and return it with its full text, which is never stored.

    `actor` None is an operator at the command line; otherwise the actor must be an owner
    or a manager of the brand.
    """
    if actor is not None:
        require_brand_member(actor, brand)
    name = secret_name_clean(name, missing=_("Give the key a name, like “Shop backend”."))
    prefix, secret_hash, full_key = BRAND_API_KEY.new(BrandApiKey)
    api_key = BrandApiKey.objects.create(
        brand=brand,
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="campaigns.api_key.created",
        target=api_key,
        after={"brand": brand.pk, "name": name, "prefix": prefix},
    )
    return api_key, full_key


@transaction.atomic
def brand_api_key_revoke(*, api_key: BrandApiKey, actor: User | None) -> BrandApiKey:
    """Revoke the key for good; revoking a revoked key changes nothing."""
    if actor is not None:
        require_brand_member(actor, api_key.brand)
    return secret_key_revoke(
        api_key, actor=actor, action="campaigns.api_key.revoked", revoked_by=actor
    )


# ---------------------------------------------------------------------------------------
# Selectors


def brand_api_key_list(brand: Brand) -> QuerySet[BrandApiKey]:
    """The brand's keys, newest first, revoked ones included (they show as revoked)."""
    return BrandApiKey.objects.filter(brand=brand).select_related("created_by")


def brand_api_key_authenticate(raw: str) -> BrandApiKey | None:
    """The live key this text is, with its brand; None for anything else."""
    return secret_key_find(BrandApiKey.objects.select_related("brand"), BRAND_API_KEY, raw)


# ---------------------------------------------------------------------------------------
# Rate limits: fixed windows in Redis

_PERIODS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "120/m" → (120 requests, 60 seconds)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([smh])\s*", rate)
    if match is None:
        raise ValueError(f"A rate limit reads like 120/m, not {rate!r}.")
    return int(match.group(1)), _PERIODS[match.group(2)]


@dataclass(frozen=True)
class RateWindow:
    """How many hits the current window of one counter holds, against its limit."""

    count: int
    limit: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def full(self) -> bool:
        return self.count >= self.limit


def rate_window(counter: str, who: str, rate: str, *, hit: bool = True) -> RateWindow | None:
    """Count one hit (or, with `hit=False`, only look) in the current fixed window of
    `counter` for `who`. None when Redis does not answer: the caller lets the request
    through rather than refuse everyone."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"{counter}:{who}:{window}"
    try:
        if not hit:
            count = int(cache.get(key) or 0)
        elif cache.add(key, 1, timeout=period + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # the window's key expired between add and incr
                count = 1
    except RedisError:
        logger.warning("Rate limit store unavailable; letting %s through", who)
        return None
    return RateWindow(count=count, limit=limit, retry_after=math.ceil((window + 1) * period - now))


def _client_ip(request: Request) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


# Wrong brand API keys and wrong creator tokens from one address share one counter.
WRONG_SECRETS_COUNTER = "api-key-failures"


def wrong_secrets_refuse_if_too_many(request: Request) -> str:
    """Raise Throttled (429, `Retry-After`) when the request's address has sent
    `API_KEY_FAILURE_RATE_LIMIT` wrong keys or tokens in the window; return the address,
    for `wrong_secret_count`."""
    address = _client_ip(request)
    rate = settings.API_KEY_FAILURE_RATE_LIMIT
    failures = rate_window(WRONG_SECRETS_COUNTER, address, rate, hit=False)
    if failures is not None and failures.full:
        raise exceptions.Throttled(
            wait=failures.retry_after,
            detail=_("Too many wrong API keys from your address (the limit is %(rate)s).")
            % {"rate": rate},
        )
    return address


def wrong_secret_count(address: str) -> None:
    """Count one wrong key or token from `address`."""
    rate_window(WRONG_SECRETS_COUNTER, address, settings.API_KEY_FAILURE_RATE_LIMIT)


# ---------------------------------------------------------------------------------------
# DRF


class BrandSuspended(exceptions.PermissionDenied):
    default_detail = gettext_lazy(
        "This brand is suspended: its API keys do not work until Connect staff lift the "
        "suspension. Contact support."
    )
    default_code = "brand_suspended"


class BrandApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer ck_live_…`: request.auth is the key (its `.brand` is who
    calls), request.user is anonymous.

    No header returns None, so the view's permission answers 401 with `authenticate_header`;
    a header with a wrong, unknown or revoked key is a 401 at once. A creator token
    (`ck_pat_…`) is left to `connect.tokens.CreatorTokenAuthentication` where the view takes
    one. A good key of a brand that staff suspended is a 403 (`brand_suspended`): the key is
    right, the brand may not act. The key's brand comes with the key's row, so this costs no
    query.

    Guessing is throttled: an address that sent `API_KEY_FAILURE_RATE_LIMIT` wrong keys in
    the window ("20/m") gets 429 with `Retry-After` for any key, right or wrong, until the
    window ends.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, BrandApiKey] | None:
        credentials = bearer_credentials(
            request, how=_("Send your API key as “Authorization: Bearer ck_live_…”.")
        )
        if credentials is None or CREATOR_TOKEN.owns(credentials):
            return None
        address = wrong_secrets_refuse_if_too_many(request)
        api_key = brand_api_key_authenticate(credentials)
        if api_key is None:
            wrong_secret_count(address)
            raise exceptions.AuthenticationFailed(
                _("This API key is not valid: it is mistyped, unknown or revoked.")
            )
        if api_key.brand.suspended_at is not None:
            raise BrandSuspended()
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class HasBrandApiKey(permissions.BasePermission):
    """Only a request authenticated by a brand API key; none at all is a 401 that says how,
    and so is a creator token, which reads only its creator's commissions."""

    def has_permission(self, request: Request, view: object) -> bool:
        if isinstance(request.auth, BrandApiKey):
            return True
        header = authentication.get_authorization_header(request).decode("latin-1")
        if CREATOR_TOKEN.marker in header:
            raise exceptions.NotAuthenticated(
                _(
                    "A creator token reads only its creator's commissions; this endpoint takes "
                    "a brand API key (“Authorization: Bearer ck_live_…”)."
                )
            )
        raise exceptions.NotAuthenticated(
            _("Send your brand API key in the header “Authorization: Bearer ck_live_…”.")
        )


class BrandApiKeyScheme(OpenApiAuthenticationExtension):
    """The brand API key in the OpenAPI schema: an HTTP bearer token."""

    target_class = BrandApiKeyAuthentication
    name = "brandApiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "ck_live_<prefix>_<secret>",
            "description": (
                "A brand API key, made on the brand's integration page (/brand/integration/) "
                "and shown once: `Authorization: Bearer ck_live_<prefix>_<secret>`."
            ),
        }
