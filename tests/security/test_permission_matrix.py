"""The permission matrix: every URL of the site and every operation of the API, requested
as each role against each tenant's objects.

Roles: anonymous, creator A, creator B, member of brand A, member of brand B and staff, and
on the API also brand A's key, brand B's key and creator A's access token. The expected
answer comes from each URL's audience (tests/security/rules.py). A violation is any of:

1. another tenant's object answered with a 2xx (or, for anonymous, anything but a refusal
   or a redirect to sign in);
2. a 2xx answer showing another tenant's private marker strings;
3. a write by anyone but the owner that changed another tenant's rows;
4. a staff-only URL answering a non-staff role with anything but a refusal;
and, everywhere, a 5xx.

All violations are collected and reported together.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.test import Client
from django.urls import reverse

import campaigns.services.campaigns as campaign_services
import campaigns.views_brand as views_brand
from campaigns.models import Campaign, CampaignStatus, Collaboration
from connect.models import User
from tests.security.endpoints import Endpoint, schema_operations, url_endpoints
from tests.security.rules import (
    ADMIN_NAMESPACE,
    EXPECTED_UNAVAILABLE,
    HOW_TO_ADD,
    SHOWN_TO_LINK_HOLDERS,
    Audience,
    audience_of,
    left_out,
    param_values,
    write_body,
)
from tests.security.world import Tenant, World, rows_written, tenant_snapshot, world_seed

pytestmark = pytest.mark.django_db

# Writes that legitimately add a row to another tenant: a creator joining a brand's active
# campaign adds their own collaboration to it.
CROSS_TENANT_JOINS = {"marketplace:campaign_join"}

REFUSALS = {401, 403, 404, 405}


@dataclass
class Role:
    name: str
    tenant: str | None  # "A", "B", or None for anonymous and staff
    side: str | None  # "creator", "brand", "staff" or None (anonymous)
    api_only: bool
    client: Client
    user: User | None = None

    @property
    def is_staff(self) -> bool:
        return self.side == "staff"


@dataclass
class Matrix:
    violations: list[str] = field(default_factory=list)
    requests: int = 0
    urls: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    rate_limited: int = 0


def _roles(world: World) -> list[Role]:
    def signed_in(name: str, tenant: str | None, side: str, user: User) -> Role:
        client = Client()
        client.force_login(user)
        return Role(name, tenant, side, False, client, user)

    def bearer(name: str, tenant: str, side: str, raw: str) -> Role:
        return Role(name, tenant, side, True, Client(HTTP_AUTHORIZATION=f"Bearer {raw}"))

    return [
        Role("anonymous", None, None, False, Client()),
        signed_in("creator A", "A", "creator", world.a.creator.user),
        signed_in("creator B", "B", "creator", world.b.creator.user),
        signed_in("member of brand A", "A", "brand", world.a.owner),
        signed_in("member of brand B", "B", "brand", world.b.owner),
        signed_in("staff", None, "staff", world.staff),
        bearer("brand A key", "A", "brand", world.a.api_key_raw),
        bearer("brand B key", "B", "brand", world.b.api_key_raw),
        bearer("creator A token", "A", "creator", world.a.token_raw),
    ]


def _owns(role: Role, audience: Audience, tenant: str | None) -> bool:
    """Whether the role is who the URL serves, for this tenant's object (or none)."""
    same = tenant is None or role.tenant == tenant
    return {
        Audience.PUBLIC: True,
        Audience.CAPABILITY: True,
        Audience.SIGNED_IN: role.side is not None,
        Audience.DIRECTORY: role.side in ("brand", "staff"),
        Audience.CREATOR_ANY: role.side == "creator",
        Audience.CREATOR_OWN: role.side == "creator" and same,
        Audience.BRAND_OWN: role.side == "brand" and same,
        Audience.STAFF: role.is_staff,
    }[audience]


def _owner_write(role: Role, audience: Audience, tenant: str | None) -> bool:
    """A write by whom the object belongs to (or staff on a staff page)."""
    if audience == Audience.STAFF:
        return role.is_staff
    return tenant is not None and role.tenant == tenant and _owns(role, audience, tenant)


def _protected(role: Role, audience: Audience, world: World) -> list[Tenant]:
    """The tenants whose rows this role's write must leave unchanged."""
    if role.is_staff and audience == Audience.STAFF:
        return []
    own_side = audience in (
        Audience.PUBLIC,
        Audience.CAPABILITY,
        Audience.SIGNED_IN,
        Audience.DIRECTORY,
        Audience.CREATOR_ANY,
    ) or _owns(role, audience, role.tenant)
    return [t for t in world.tenants if not (own_side and t.key == role.tenant)]


def _body_text(response: HttpResponse) -> str:
    if isinstance(response, StreamingHttpResponse):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if response.get("Content-Type", "").startswith("image/png"):
        return ""
    return content.decode("utf-8", errors="replace")


def _targets(endpoint: Endpoint, world: World, matrix: Matrix) -> Iterator[tuple[str, str | None]]:
    """(path, tenant of the object in it) for every object the URL can be filled with."""
    if not endpoint.params:
        yield reverse(endpoint.name), None
        return
    for tenant in world.tenants:
        values: dict[str, list[Any]] = {}
        for param in endpoint.params:
            found = param_values(endpoint.name, param, tenant)
            if found is None:
                matrix.violations.append(
                    HOW_TO_ADD.format(name=endpoint.name, route=endpoint.route, param=param)
                )
                return
            values[param] = found
        # One request per object of the tenant (the parameters vary together).
        for index in range(max(len(v) for v in values.values())):
            kwargs = {p: v[min(index, len(v) - 1)] for p, v in values.items()}
            yield reverse(endpoint.name, kwargs=kwargs), tenant.key


def _send(role: Role, method: str, path: str, body: dict[str, Any], api: bool) -> Any:
    client = role.client
    if method == "get":
        return client.get(path)
    if api:
        return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")
    if method == "post":
        return client.post(path, data=body)
    return getattr(client, method)(path)


def _check(
    *,
    matrix: Matrix,
    world: World,
    role: Role,
    endpoint: Endpoint,
    audience: Audience,
    method: str,
    path: str,
    tenant: str | None,
    baseline: dict[str, dict[str, str]],
    baseline_collaborations: list[int],
) -> None:
    label = f"{method.upper()} {path} [{endpoint.name}] as {role.name}"
    victim = world.tenant(tenant) if tenant else world.tenant("B" if role.tenant == "A" else "A")
    attacker = world.tenant(role.tenant) if role.tenant else victim
    session_before = role.client.cookies.get("sessionid")
    written_before = rows_written()
    with transaction.atomic():
        response = _send(role, method, path, write_body(attacker, victim), endpoint.is_api)
        status = response.status_code
        matrix.requests += 1
        if status == 429:
            matrix.rate_limited += 1
        if status >= 500 and not (status == 503 and endpoint.name in EXPECTED_UNAVAILABLE):
            matrix.violations.append(f"{label}: answered {status}")
        owner = _owns(role, audience, tenant)
        # (1) and (4): another tenant's object, a staff page, the directory for those it is
        # not for, and every page but the public ones for anonymous, are refused.
        must_refuse = not owner and (
            (tenant is not None and audience in (Audience.CREATOR_OWN, Audience.BRAND_OWN))
            or audience in (Audience.STAFF, Audience.DIRECTORY)
            or (role.side is None and audience not in (Audience.PUBLIC, Audience.CAPABILITY))
        )
        if role.is_staff and audience != Audience.STAFF and method == "get":
            must_refuse = False
        if must_refuse and status not in REFUSALS and status != 429:
            location = response.get("Location", "")
            if 300 <= status < 400:
                if role.side is None and "login" not in location:
                    matrix.violations.append(f"{label}: redirected to {location}, not to sign in")
            else:
                matrix.violations.append(f"{label}: answered {status} where it must refuse")
        # (2) no other tenant's private data in an answer.
        if 200 <= status < 300 and not role.is_staff:
            text = _body_text(response)
            for other in world.tenants:
                if other.key == role.tenant:
                    continue
                shown = SHOWN_TO_LINK_HOLDERS.get(endpoint.name, lambda t: [])(other)
                leaked = [
                    marker
                    for marker in other.markers
                    if marker and marker in text and marker not in shown
                ]
                if leaked:
                    matrix.violations.append(f"{label}: shows tenant {other.key}'s {leaked}")
        # (3) no write into a tenant the role does not own, by any method (a GET that
        # writes included).
        if rows_written() != written_before:
            ignore = None
            if endpoint.name in CROSS_TENANT_JOINS and role.side == "creator" and role.tenant:
                actor = world.tenant(role.tenant).creator
                ignore = Q(creator=actor, campaign__status=CampaignStatus.ACTIVE) & ~Q(
                    pk__in=baseline_collaborations
                )
            for protected in _protected(role, audience, world):
                after = tenant_snapshot(protected, ignore_collaborations=ignore)
                changed = [k for k, v in after.items() if baseline[protected.key][k] != v]
                if changed:
                    matrix.violations.append(
                        f"{label}: changed tenant {protected.key}'s {changed} (answered {status})"
                    )
        transaction.set_rollback(True)
    # A write may have signed the role out (logout, account deletion): sign in again.
    if role.user is not None and role.client.cookies.get("sessionid") != session_before:
        role.client.force_login(role.user)
    matrix.urls.add(endpoint.name)
    matrix.roles.add(role.name)
    matrix.objects.add(f"{endpoint.name}:{path}")


@pytest.fixture
def world() -> World:
    return world_seed()


def test_every_api_operation_is_in_the_url_conf_matrix() -> None:
    # given every operation the OpenAPI schema documents
    operations = schema_operations()
    endpoints = {e.name: e for e in url_endpoints()}
    # then each one is a URL pattern the matrix requests with that method
    missing = [
        f"{method.upper()} {path} ({name})"
        for path, method, name in operations
        if name not in endpoints or method not in endpoints[name].methods()
    ]
    assert operations
    assert missing == []


def run_matrix(world: World, only: set[str] | None = None) -> tuple[Matrix, list[str]]:
    """Request every URL (or those named in `only`) as every role, for each tenant's
    objects; the violations and what was left out (with the reason)."""
    roles = _roles(world)
    baseline = {t.key: tenant_snapshot(t) for t in world.tenants}
    baseline_collaborations = list(Collaboration.objects.values_list("pk", flat=True))
    schema_methods: dict[str, set[str]] = {}
    for _path, method, name in schema_operations():
        schema_methods.setdefault(name, set()).add(method)
    matrix = Matrix()
    left: list[str] = []
    for endpoint in url_endpoints():
        if only is not None and endpoint.name not in only:
            continue
        reason = left_out(endpoint.name, endpoint.route, endpoint.params)
        if reason is not None:
            left.append(f"{endpoint.route}: {reason}")
            continue
        audience = audience_of(endpoint.name)
        if audience is None:
            matrix.violations.append(
                f"{endpoint.name} ({endpoint.route}) has no audience: add it to AUDIENCE in "
                "tests/security/rules.py with who it is for"
            )
            continue
        methods = set(endpoint.methods()) | schema_methods.get(endpoint.name, set())
        for path, tenant in list(_targets(endpoint, world, matrix)):
            for role in roles:
                if role.api_only and not endpoint.is_api:
                    continue
                for method in sorted(methods):
                    if method != "get" and _owner_write(role, audience, tenant):
                        # The owner's own writes are the services' tests' business; the
                        # matrix tries everyone else's.
                        continue
                    if method != "get" and endpoint.name.startswith(ADMIN_NAMESPACE):
                        # Django's admin: its staff gate is tested with reads.
                        continue
                    _check(
                        matrix=matrix,
                        world=world,
                        role=role,
                        endpoint=endpoint,
                        audience=audience,
                        method=method,
                        path=path,
                        tenant=tenant,
                        baseline=baseline,
                        baseline_collaborations=baseline_collaborations,
                    )
    return matrix, left


@pytest.fixture
def no_api_rate_limits(settings: Any) -> None:
    # Thousands of requests a minute with the same keys: the limits are tested elsewhere.
    settings.READ_API_RATE_LIMIT = "100000/m"
    settings.ORDER_EVENTS_RATE_LIMIT = "100000/m"
    # "Connect Stripe" requested by a creator: answered as when Stripe is unreachable, at
    # once, instead of a DNS lookup of the real Stripe and the SDK's retries.
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0


def test_permission_matrix(world: World, no_api_rate_limits: None) -> None:
    # given two tenants, the roles around them, and every URL of the site
    started = time.monotonic()

    # when each URL is requested by each role, for each tenant's objects
    matrix, left = run_matrix(world)

    # then nothing leaked, no write went through, every refusal held
    seconds = time.monotonic() - started
    size = (
        f"permission matrix: {len(matrix.urls)} URLs x {len(matrix.roles)} roles, "
        f"{len(matrix.objects)} URL-object pairs, {matrix.requests} requests "
        f"({matrix.rate_limited} rate-limited) in {seconds:.1f}s; {len(left)} URLs left out"
    )
    print(size)
    assert matrix.violations == [], size + "\n" + "\n".join(matrix.violations)
    assert len(matrix.urls) > 100 and matrix.requests > 1000, size


def test_the_matrix_catches_a_view_that_forgets_the_brand_check(
    world: World, no_api_rate_limits: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the brand's campaign pages and their service opened to anyone
    monkeypatch.setattr(
        views_brand, "_member_campaign", lambda request, pk: get_object_or_404(Campaign, pk=pk)
    )
    monkeypatch.setattr(campaign_services, "require_brand_member", lambda *a, **k: "owner")

    # when the matrix runs over them
    matrix, _left = run_matrix(world, only={"brand:campaign_detail", "brand:campaign_pause"})

    # then it reports the answer, the leak and the write, each by name
    found = "\n".join(matrix.violations)
    assert (
        f"GET /brand/campaigns/{world.a.campaign.pk}/ [brand:campaign_detail] as member of brand B: answered 200 "
        "where it must refuse"
    ) in found
    assert (
        f"GET /brand/campaigns/{world.a.draft_campaign.pk}/ [brand:campaign_detail] as member of brand B: shows tenant "
        "A's ['Alpha unreleased draft Q7']"
    ) in found
    assert (
        f"POST /brand/campaigns/{world.a.campaign.pk}/pause/ [brand:campaign_pause] as member of brand B: changed "
        "tenant A's ['campaign'] (answered 302)"
    ) in found
