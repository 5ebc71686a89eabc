"""Creator personal access tokens: making, listing, revoking them, and the DRF authentication.

A creator's own programs (a spreadsheet, a script, a dashboard of their own) read the
creator's commissions with `Authorization: Bearer ck_pat_<prefix>_<secret>`. A token
authenticates its creator for the creator's read endpoints only (`GET /api/v1/commissions`):
it is not a session, so it never reaches the brand API or anything that writes, even when
the creator is also a member of a brand. Format, hashing and lookup are those of brand API
keys (`connect.secret_keys`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from campaigns.api_keys import wrong_secret_count, wrong_secrets_refuse_if_too_many
from connect.audit import audit_record
from connect.models import CreatorAccessToken, CreatorProfile, User
from connect.secret_keys import (
    CREATOR_TOKEN,
    bearer_credentials,
    secret_key_find,
    secret_key_revoke,
    secret_name_clean,
)

# Live tokens a creator may hold at once: enough for every tool, few enough to review.
MAX_LIVE_TOKENS = 20


def _require_owner(actor: User, creator: CreatorProfile) -> None:
    if actor.pk != creator.user_id:
        raise PermissionDenied(_("Only the creator manages their own tokens."))


# ---------------------------------------------------------------------------------------
# Services


@transaction.atomic
def creator_token_create(
    *, creator: CreatorProfile, actor: User, name: str
) -> tuple[CreatorAccessToken, str]:
    """Make a token for the creator and return it with its full text, which is never stored.

    Only the creator makes their own tokens, and holds at most `MAX_LIVE_TOKENS` live ones.
    """
    _require_owner(actor, creator)
    name = secret_name_clean(name, missing=_("Give the token a name, like “My spreadsheet”."))
    # Lock the profile so that two requests at once cannot both take the last place.
    CreatorProfile.objects.select_for_update().filter(pk=creator.pk).first()
    live = creator_token_list(creator).filter(revoked_at__isnull=True).count()
    if live >= MAX_LIVE_TOKENS:
        raise ValidationError(
            _("You have %(max)s live tokens: revoke one you no longer use first.")
            % {"max": MAX_LIVE_TOKENS}
        )
    prefix, secret_hash, full_token = CREATOR_TOKEN.new(CreatorAccessToken)
    token = CreatorAccessToken.objects.create(
        creator=creator, name=name, prefix=prefix, secret_hash=secret_hash
    )
    audit_record(
        actor=actor,
        action="connect.creator_token.created",
        target=token,
        after={"creator": creator.pk, "name": name, "prefix": prefix},
    )
    return token, full_token


@transaction.atomic
def creator_token_revoke(*, token: CreatorAccessToken, actor: User) -> CreatorAccessToken:
    """Revoke the token for good; revoking a revoked token changes nothing."""
    _require_owner(actor, token.creator)
    return secret_key_revoke(token, actor=actor, action="connect.creator_token.revoked")


# ---------------------------------------------------------------------------------------
# Selectors


def creator_token_list(creator: CreatorProfile) -> QuerySet[CreatorAccessToken]:
    """The creator's tokens, newest first, revoked ones included (they show as revoked)."""
    return CreatorAccessToken.objects.filter(creator=creator)


def creator_token_authenticate(raw: str) -> CreatorAccessToken | None:
    """The live token this text is, with its creator and user; None for anything else."""
    return secret_key_find(
        CreatorAccessToken.objects.select_related("creator__user"), CREATOR_TOKEN, raw
    )


# ---------------------------------------------------------------------------------------
# DRF


class CreatorTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer ck_pat_…`: request.user is the token's creator, request.auth
    the token.

    Anything that is not a creator token returns None, for the view's other authentication
    classes (a brand API key) to decide; a wrong, unknown or revoked token, or the token of
    a deactivated account, is a 401.

    Guessing is throttled with brand API keys, on their counter: wrong tokens and wrong
    keys from one address add up to `API_KEY_FAILURE_RATE_LIMIT` per window, after which
    any token or key from it gets 429 with `Retry-After` until the window ends.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, CreatorAccessToken] | None:
        credentials = bearer_credentials(
            request, how=_("Send your token as “Authorization: Bearer ck_pat_…”.")
        )
        if credentials is None or not CREATOR_TOKEN.owns(credentials):
            return None
        address = wrong_secrets_refuse_if_too_many(request)
        token = creator_token_authenticate(credentials)
        if token is None:
            wrong_secret_count(address)
        if token is None or not token.creator.user.is_active:
            raise exceptions.AuthenticationFailed(
                _("This token is not valid: it is mistyped, unknown or revoked.")
            )
        return token.creator.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class CreatorTokenScheme(OpenApiAuthenticationExtension):
    """The creator token in the OpenAPI schema: an HTTP bearer token."""

    target_class = CreatorTokenAuthentication
    name = "creatorToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "ck_pat_<prefix>_<secret>",
            "description": (
                "A creator's personal access token, made on /settings/tokens/ and shown once: "
                "`Authorization: Bearer ck_pat_<prefix>_<secret>`. It reads only its "
                "creator's own commissions."
            ),
        }
