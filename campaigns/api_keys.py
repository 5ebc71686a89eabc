"""Brand API keys: making, hashing, finding and revoking them, and the DRF authentication.

A key reads `ck_live_<prefix>_<secret>`:

- `ck_live_` is constant so that secret scanners (GitHub's, gitleaks) can recognise a
  leaked key;
- the prefix (8 random lowercase letters and digits) is stored in clear, unique and
  indexed: it finds the key's row in one index lookup and names the key in lists;
- the secret is 43 random base62 characters (about 256 bits). Only its SHA-256 hash is
  stored. A slow password hash (PBKDF2, Argon2) protects low-entropy secrets people choose;
  a 256-bit random secret cannot be guessed from its hash however fast the hash is, and a
  fast hash keeps authentication off the hot path's CPU budget.

The hashes are compared with `hmac.compare_digest`, so the time taken says nothing about
how much of a guessed secret was right.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from campaigns.models import Brand, BrandApiKey
from campaigns.permissions import require_brand_member
from connect.audit import audit_record
from connect.models import User

KEY_PREFIX = "ck_live_"
PREFIX_LENGTH = 8
SECRET_LENGTH = 43  # 43 base62 characters ≈ 256 bits
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
# `last_used_at` is written at most once a minute per key, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)
NAME_MAX_LENGTH = 100


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _position in range(length))


def hash_secret(secret: str) -> str:
    """The stored form of a secret: hex SHA-256 (see the module docstring for why not a KDF)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(raw: str) -> tuple[str, str] | None:
    """Split `ck_live_<prefix>_<secret>` into (prefix, secret), or None if it is not one."""
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = raw.removeprefix(KEY_PREFIX).partition("_")
    if (
        not sep
        or len(prefix) != PREFIX_LENGTH
        or len(secret) != SECRET_LENGTH
        or not set(prefix) <= set(_PREFIX_ALPHABET)
        or not set(secret) <= set(_SECRET_ALPHABET)
    ):
        return None
    return prefix, secret


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
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name, like “Shop backend”.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("Keep the name within %(max)s characters.") % {"max": NAME_MAX_LENGTH}}
        )
    secret = _random(_SECRET_ALPHABET, SECRET_LENGTH)
    # 36^8 ≈ 2.8·10^12 prefixes: a collision is unlikely, and the loop makes it harmless.
    prefix = _random(_PREFIX_ALPHABET, PREFIX_LENGTH)
    while BrandApiKey.objects.filter(prefix=prefix).exists():
        prefix = _random(_PREFIX_ALPHABET, PREFIX_LENGTH)
    api_key = BrandApiKey.objects.create(
        brand=brand,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="campaigns.api_key.created",
        target=api_key,
        after={"brand": brand.pk, "name": name, "prefix": prefix},
    )
    return api_key, f"{KEY_PREFIX}{prefix}_{secret}"


@transaction.atomic
def brand_api_key_revoke(*, api_key: BrandApiKey, actor: User | None) -> BrandApiKey:
    """Revoke the key for good; revoking a revoked key changes nothing."""
    if actor is not None:
        require_brand_member(actor, api_key.brand)
    api_key = BrandApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = timezone.now()
    api_key.revoked_by = actor
    api_key.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="campaigns.api_key.revoked",
        target=api_key,
        before={"revoked_at": None},
        after={"revoked_at": api_key.revoked_at.isoformat()},
    )
    return api_key


# ---------------------------------------------------------------------------------------
# Selectors


def brand_api_key_list(brand: Brand) -> QuerySet[BrandApiKey]:
    """The brand's keys, newest first, revoked ones included (they show as revoked)."""
    return BrandApiKey.objects.filter(brand=brand).select_related("created_by")


# A hash that matches nothing, compared when the prefix is unknown so that an unknown prefix
# and a wrong secret take the same time.
_NO_MATCH = hash_secret("")


def brand_api_key_authenticate(raw: str) -> BrandApiKey | None:
    """The live key this text is, with its brand; None for anything else.

    Touches `last_used_at` only when it is older than a minute, with a conditional UPDATE,
    so a busy key costs one write a minute rather than one per request.
    """
    parsed = parse_key(raw)
    if parsed is None:
        return None
    prefix, secret = parsed
    api_key = BrandApiKey.objects.select_related("brand").filter(prefix=prefix).first()
    stored = api_key.secret_hash if api_key is not None else _NO_MATCH
    matches = hmac.compare_digest(hash_secret(secret), stored)
    if api_key is None or not matches or api_key.revoked_at is not None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        BrandApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


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
    a header with a wrong, unknown or revoked key is a 401 at once. A good key of a brand
    that staff suspended is a 403 (`brand_suspended`): the key is right, the brand may not
    act. The key's brand comes with the key's row, so this costs no query.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, BrandApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _sep, credentials = header.strip().partition(" ")
        if scheme.lower() != self.keyword.lower() or not credentials.strip():
            raise exceptions.AuthenticationFailed(
                _("Send your API key as “Authorization: Bearer ck_live_…”.")
            )
        api_key = brand_api_key_authenticate(credentials.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                _("This API key is not valid: it is mistyped, unknown or revoked.")
            )
        if api_key.brand.suspended_at is not None:
            raise BrandSuspended()
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class HasBrandApiKey(permissions.BasePermission):
    """Only a request authenticated by a brand API key; none at all is a 401 that says how."""

    def has_permission(self, request: Request, view: object) -> bool:
        if not isinstance(request.auth, BrandApiKey):
            raise exceptions.NotAuthenticated(
                _("Send your brand API key in the header “Authorization: Bearer ck_live_…”.")
            )
        return True
