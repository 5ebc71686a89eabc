"""Bearer secrets of the API: brand API keys (`ck_live_…`) and creator tokens (`ck_pat_…`).

Both read `<marker><prefix>_<secret>` and share everything below: how they are made,
hashed, found, stamped with their last use and revoked.

- The marker is constant so that secret scanners (GitHub's, gitleaks) can recognise a
  leaked secret, and says which kind it is;
- the prefix (8 random lowercase letters and digits) is stored in clear, unique and
  indexed: it finds the row in one index lookup and names the secret in lists;
- the secret is 43 random base62 characters (about 256 bits). Only its SHA-256 hash is
  stored. A slow password hash (PBKDF2, Argon2) protects low-entropy secrets people choose;
  a 256-bit random secret cannot be guessed from its hash however fast the hash is, and a
  fast hash keeps authentication off the hot path's CPU budget.

The hashes are compared with `hmac.compare_digest`, so the time taken says nothing about
how much of a guessed secret was right; an unknown prefix is compared against a hash that
matches nothing, so it takes as long as a wrong secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from connect.audit import audit_record
from connect.models import User

PREFIX_LENGTH = 8
SECRET_LENGTH = 43  # 43 base62 characters ≈ 256 bits
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
# `last_used_at` is written at most once a minute per secret, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)
NAME_MAX_LENGTH = 100
BEARER = "Bearer"


class SecretKeyRow(Protocol):
    """The columns a stored bearer secret has (`BrandApiKey`, `CreatorAccessToken`)."""

    pk: Any
    prefix: str
    secret_hash: str
    last_used_at: Any
    revoked_at: Any


Row = TypeVar("Row", bound=models.Model)


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _position in range(length))


def hash_secret(secret: str) -> str:
    """The stored form of a secret: hex SHA-256 (see the module docstring for why not a KDF)."""
    return hashlib.sha256(secret.encode()).hexdigest()


# A hash that matches nothing, compared when the prefix is unknown.
_NO_MATCH = hash_secret("")


@dataclass(frozen=True)
class SecretFormat:
    """One kind of bearer secret, told apart by its marker."""

    marker: str

    def owns(self, raw: str) -> bool:
        """Whether the text claims to be of this kind (it may still be wrong)."""
        return raw.startswith(self.marker)

    def parse(self, raw: str) -> tuple[str, str] | None:
        """Split `<marker><prefix>_<secret>` into (prefix, secret), or None if it is not one."""
        if not self.owns(raw):
            return None
        prefix, sep, secret = raw.removeprefix(self.marker).partition("_")
        if (
            not sep
            or len(prefix) != PREFIX_LENGTH
            or len(secret) != SECRET_LENGTH
            or not set(prefix) <= set(_PREFIX_ALPHABET)
            or not set(secret) <= set(_SECRET_ALPHABET)
        ):
            return None
        return prefix, secret

    def new(self, model: type[models.Model]) -> tuple[str, str, str]:
        """A fresh (prefix, secret hash, full text) for a row of `model`; the full text is
        shown once and never stored."""
        secret = _random(_SECRET_ALPHABET, SECRET_LENGTH)
        # 36^8 ≈ 2.8·10^12 prefixes: a collision is unlikely, and the loop makes it harmless.
        prefix = _random(_PREFIX_ALPHABET, PREFIX_LENGTH)
        while model._default_manager.filter(prefix=prefix).exists():
            prefix = _random(_PREFIX_ALPHABET, PREFIX_LENGTH)
        return prefix, hash_secret(secret), f"{self.marker}{prefix}_{secret}"


BRAND_API_KEY = SecretFormat("ck_live_")
CREATOR_TOKEN = SecretFormat("ck_pat_")


def secret_name_clean(name: str, *, missing: str) -> str:
    """The name people give a key or token, stripped; `missing` is the message for none."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": missing})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("Keep the name within %(max)s characters.") % {"max": NAME_MAX_LENGTH}}
        )
    return name


def secret_key_find(queryset: QuerySet[Row], secret_format: SecretFormat, raw: str) -> Row | None:
    """The live row of `queryset` this text is; None for anything else.

    Touches `last_used_at` only when it is older than a minute, with a conditional UPDATE,
    so a busy secret costs one write a minute rather than one per request.
    """
    parsed = secret_format.parse(raw)
    if parsed is None:
        return None
    prefix, secret = parsed
    row = queryset.filter(prefix=prefix).first()
    stored: str = getattr(row, "secret_hash", _NO_MATCH)
    matches = hmac.compare_digest(hash_secret(secret), stored)
    if row is None or not matches or getattr(row, "revoked_at", None) is not None:
        return None
    now = timezone.now()
    last_used_at = getattr(row, "last_used_at", None)
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        type(row)._default_manager.filter(pk=row.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        row.last_used_at = now  # type: ignore[attr-defined]
    return row


def secret_key_revoke(row: Row, *, actor: User | None, action: str, **stamps: Any) -> Row:
    """Revoke the row for good, with `stamps` (like `revoked_by`) set beside `revoked_at`,
    and audit it; revoking a revoked row changes nothing. Call it inside a transaction."""
    row = type(row)._default_manager.select_for_update().get(pk=row.pk)
    if getattr(row, "revoked_at", None) is not None:
        return row
    revoked_at = timezone.now()
    row.revoked_at = revoked_at  # type: ignore[attr-defined]
    for field, value in stamps.items():
        setattr(row, field, value)
    row.save(update_fields=["revoked_at", *stamps])
    audit_record(
        actor=actor,
        action=action,
        target=row,
        before={"revoked_at": None},
        after={"revoked_at": revoked_at.isoformat()},
    )
    return row


def bearer_credentials(request: Request, *, how: str) -> str | None:
    """The text after `Authorization: Bearer`, None without the header; any other scheme,
    or nothing after it, is a 401 that says `how` to send it."""
    header = authentication.get_authorization_header(request).decode("latin-1")
    if not header:
        return None
    scheme, _sep, credentials = header.strip().partition(" ")
    if scheme.lower() != BEARER.lower() or not credentials.strip():
        raise exceptions.AuthenticationFailed(how)
    return credentials.strip()
