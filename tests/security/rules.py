"""The permission matrix's declarations: who each URL is for, how its parameters are
filled from a tenant's objects, and which URLs are left out (with the reason)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from tests.security.world import Tenant


class Audience(enum.StrEnum):
    """Who a URL is for; the matrix derives the expected answer for every role from it."""

    # Anyone, signed in or not: a 200 is expected, so only leaks and writes are checked.
    PUBLIC = "public"
    # Anyone holding the secret in the URL (an invitation token): no tenant may act on it
    # unless the service lets them (a write is still checked).
    CAPABILITY = "capability"
    # Any signed-in user about their own account; no other tenant's object in the URL.
    SIGNED_IN = "signed-in"
    # Any creator (the marketplace): any creator may read and join.
    CREATOR_ANY = "creator-any"
    # The creator the object belongs to (or their personal access token).
    CREATOR_OWN = "creator-own"
    # Members of the brand the object belongs to (or the brand's API key).
    BRAND_OWN = "brand-own"
    # Brand members and staff: the creator directory.
    DIRECTORY = "directory"
    # Staff only.
    STAFF = "staff"


# Every URL name the site has. A URL that is not here fails the matrix: add it with the
# audience it is meant for.
AUDIENCE: dict[str, Audience] = {
    "home": Audience.PUBLIC,
    "admin:login": Audience.PUBLIC,
    "admin:logout": Audience.PUBLIC,
    "healthz": Audience.PUBLIC,
    "robots_txt": Audience.PUBLIC,
    "favicon": Audience.PUBLIC,
    "set_language": Audience.PUBLIC,
    "stripe_webhook": Audience.PUBLIC,
    "api-schema": Audience.PUBLIC,
    "api-docs": Audience.PUBLIC,
    "api-redoc": Audience.PUBLIC,
    "tracking:redirect": Audience.PUBLIC,
    "connect:profile_public": Audience.PUBLIC,
    "brand:public": Audience.PUBLIC,
    "brand:invitation": Audience.CAPABILITY,
    "connect:onboarding": Audience.SIGNED_IN,
    "connect:profile_edit": Audience.SIGNED_IN,
    "connect:tokens": Audience.SIGNED_IN,
    "connect:token_create": Audience.SIGNED_IN,
    "connect:token_revoke": Audience.CREATOR_OWN,
    "connect:privacy": Audience.SIGNED_IN,
    "connect:data_export": Audience.SIGNED_IN,
    "connect:account_delete": Audience.SIGNED_IN,
    "connect:directory": Audience.DIRECTORY,
    "marketplace:campaign_list": Audience.CREATOR_ANY,
    "marketplace:campaign_detail": Audience.CREATOR_ANY,
    "marketplace:campaign_join": Audience.CREATOR_ANY,
    "marketplace:collaboration_list": Audience.SIGNED_IN,
    "marketplace:collaboration_detail": Audience.CREATOR_OWN,
    "marketplace:collaboration_qr": Audience.CREATOR_OWN,
    "marketplace:collaboration_qr_png": Audience.CREATOR_OWN,
    "marketplace:invitation_accept": Audience.CREATOR_OWN,
    "marketplace:invitation_decline": Audience.CREATOR_OWN,
    "brand:home": Audience.SIGNED_IN,
    "brand:create": Audience.SIGNED_IN,
    "brand:switch": Audience.BRAND_OWN,
    "brand:team": Audience.SIGNED_IN,
    "brand:member_remove": Audience.BRAND_OWN,
    "brand:campaign_list": Audience.SIGNED_IN,
    "brand:campaign_create": Audience.SIGNED_IN,
    "brand:campaign_detail": Audience.BRAND_OWN,
    "brand:campaign_edit": Audience.BRAND_OWN,
    "brand:campaign_publish": Audience.BRAND_OWN,
    "brand:campaign_pause": Audience.BRAND_OWN,
    "brand:campaign_resume": Audience.BRAND_OWN,
    "brand:campaign_end": Audience.BRAND_OWN,
    "brand:campaign_invite": Audience.BRAND_OWN,
    "brand:directory_invite": Audience.SIGNED_IN,
    "brand:collaboration_accept": Audience.BRAND_OWN,
    "brand:collaboration_reject": Audience.BRAND_OWN,
    "brand:collaboration_remove": Audience.BRAND_OWN,
    "brand:collaboration_discount_code": Audience.BRAND_OWN,
    "brand:integration": Audience.SIGNED_IN,
    "brand:api_key_create": Audience.SIGNED_IN,
    "brand:api_key_revoke": Audience.BRAND_OWN,
    "brand_events:log": Audience.SIGNED_IN,
    "brand_events:upload": Audience.SIGNED_IN,
    # The example CSV file: the same static text for everyone, no brand's data.
    "brand_events:upload_template": Audience.PUBLIC,
    "brand_events:upload_detail": Audience.BRAND_OWN,
    "brand_events:upload_status": Audience.BRAND_OWN,
    "brand_events:upload_confirm": Audience.BRAND_OWN,
    "brand_events:upload_discard": Audience.BRAND_OWN,
    "brand_events:order": Audience.BRAND_OWN,
    "payouts_creator:home": Audience.SIGNED_IN,
    "payouts_creator:settings": Audience.SIGNED_IN,
    "payouts_creator:stripe_connect": Audience.SIGNED_IN,
    "payouts_creator:bank_save": Audience.SIGNED_IN,
    "payouts_creator:rail_save": Audience.SIGNED_IN,
    "payouts_creator:stripe_return": Audience.SIGNED_IN,
    "payouts_creator:stripe_refresh": Audience.SIGNED_IN,
    "dashboards:creator": Audience.SIGNED_IN,
    "dashboards:creator_commissions": Audience.SIGNED_IN,
    "dashboards:creator_commissions_csv": Audience.SIGNED_IN,
    "dashboards:brand": Audience.SIGNED_IN,
    "dashboards:brand_csv": Audience.SIGNED_IN,
    "dashboards:staff": Audience.STAFF,
    "payouts_staff:queue": Audience.STAFF,
    "payouts_staff:bulk": Audience.STAFF,
    "payouts_staff:bank": Audience.STAFF,
    "payouts_staff:bank_export": Audience.STAFF,
    "payouts_staff:detail": Audience.STAFF,
    "payouts_staff:approve": Audience.STAFF,
    "payouts_staff:reject": Audience.STAFF,
    "payouts_staff:bank_paid": Audience.STAFF,
    "payouts_staff:bank_failed": Audience.STAFF,
    "payouts_staff:reconciliation": Audience.STAFF,
    "payouts_staff:reconciliation_resolve": Audience.STAFF,
    "payouts_staff:audit": Audience.STAFF,
    "api:brand-campaigns": Audience.BRAND_OWN,
    "api:campaign-detail": Audience.BRAND_OWN,
    "api:campaign-publish": Audience.BRAND_OWN,
    "api:campaign-pause": Audience.BRAND_OWN,
    "api:campaign-resume": Audience.BRAND_OWN,
    "api:campaign-end": Audience.BRAND_OWN,
    "api:campaign-collaborations": Audience.BRAND_OWN,
    "api:campaign-invitations": Audience.BRAND_OWN,
    "api:collaboration-accept": Audience.BRAND_OWN,
    "api:collaboration-reject": Audience.BRAND_OWN,
    "api:collaboration-remove": Audience.BRAND_OWN,
    "payouts_api:order-events": Audience.SIGNED_IN,
    "payouts_api:commissions": Audience.SIGNED_IN,
    "payouts_api:order-detail": Audience.BRAND_OWN,
}

# Django's admin (its own staff gate) and allauth's account pages: requested without
# parameters as staff-only and public pages; those below cannot be requested meaningfully.
ADMIN_NAMESPACE = "admin:"
ACCOUNT_PREFIXES = ("account_", "mfa_")


def left_out(name: str, route: str, params: tuple[str, ...]) -> str | None:
    """Why a URL is not requested, or None when it is."""
    if route.startswith("^media/") or route.startswith("static/"):
        return "uploaded and static files: served as files, no tenant's data behind a check"
    if (name.startswith(ADMIN_NAMESPACE) or route.startswith("admin/")) and params:
        return "Django admin object pages: behind the admin's staff gate, tested on its index"
    if name.startswith(ACCOUNT_PREFIXES) and params:
        return "allauth keys (email confirmation, password reset): single-use secrets"
    return None


def audience_of(name: str) -> Audience | None:
    if name in AUDIENCE:
        return AUDIENCE[name]
    if name.startswith(ADMIN_NAMESPACE):
        return Audience.STAFF
    if name.startswith(ACCOUNT_PREFIXES):
        return Audience.PUBLIC
    return None


# Answers that look like failures but are what the URL is meant to say here.
EXPECTED_UNAVAILABLE: dict[str, str] = {
    "healthz": "reports 503 while no Celery worker or beat answers, as in this test",
}

# Private strings a URL shows by design to whoever holds its secret link.
SHOWN_TO_LINK_HOLDERS: dict[str, Callable[[Tenant], list[str]]] = {
    # The invitation names who sent it, so the invitee knows whom they join.
    "brand:invitation": lambda t: [t.owner.email],
}


ObjectGetter = Callable[[Tenant], list[Any]]

# How a URL parameter is filled with a tenant's object(s), by parameter name.
PARAMS: dict[str, ObjectGetter] = {
    "campaign_id": lambda t: [t.campaign.pk, t.draft_campaign.pk],
    "collaboration_id": lambda t: [t.collaboration.pk],
    "order_id": lambda t: [t.order_id],
    "slug": lambda t: [t.brand.slug],
    "handle": lambda t: [t.creator.handle],
    "token": lambda t: [t.invitation.token],
    "code": lambda t: [t.collaboration.tracking_code],
    "payout_id": lambda t: [t.payout.pk],
    "difference_id": lambda t: [t.difference.pk],
}

# `pk` means another model in every view: it is filled per URL name.
PK_BY_VIEW: dict[str, ObjectGetter] = {
    "connect:token_revoke": lambda t: [t.token.pk],
    "brand:member_remove": lambda t: [t.second_member.pk],
    "brand:api_key_revoke": lambda t: [t.api_key.pk],
    **{
        f"brand:campaign_{action}": (lambda t: [t.campaign.pk, t.draft_campaign.pk])
        for action in ("detail", "edit", "publish", "pause", "resume", "end", "invite")
    },
    **{
        f"brand:collaboration_{action}": (lambda t: [t.collaboration.pk])
        for action in ("accept", "reject", "remove", "discount_code")
    },
    **{
        f"brand_events:upload_{action}": (lambda t: [t.csv_upload.pk])
        for action in ("detail", "status", "confirm", "discard")
    },
}

HOW_TO_ADD = (
    "{name} ({route}) takes parameter {param!r} that the permission matrix cannot fill: "
    "add it to PARAMS (a parameter name meaning the same object everywhere) or PK_BY_VIEW "
    "(per URL name) in tests/security/rules.py, seeding the object in tests/security/world.py "
    "for both tenants; or, if it cannot be requested meaningfully, to left_out() with a reason."
)


def param_values(name: str, param: str, tenant: Tenant) -> list[Any] | None:
    getter = PK_BY_VIEW.get(name) if param == "pk" else PARAMS.get(param)
    return None if getter is None else getter(tenant)


def write_body(tenant_other: Tenant, victim: Tenant) -> dict[str, Any]:
    """A plausible body for any write: the fields the site's forms and API take, filled as
    an attacker would (victim's handle to invite, a new discount code, a new title)."""
    return {
        "title": "Hijacked title",
        "name": "Hijacked name",
        "display_name": "Hijacked",
        "discount_code": "HIJACK42",
        "email": f"attacker.{tenant_other.key.lower()}@matrix-attacker.test",
        "role": "owner",
        "reason": "hijacked",
        "reference": "HIJACK-REF",
        "note": "hijacked",
        "resolution_note": "hijacked",
        "holder_name": "Hijacked Holder",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "rail": "bank",
        "creator": victim.creator.handle,
        "handle": victim.creator.handle,
        "campaign": victim.campaign.pk,
        "message": "hijacked",
        "status": "ended",
        "amount": "10.00",
        "currency": "EUR",
        "confirm": "on",
        "action": "approve",
        "payouts": [victim.payout.pk],
        "language": "en",
    }
