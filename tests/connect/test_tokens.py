"""Creator personal access tokens: the page, hashed storage, authentication on the
commissions API, revocation, tenancy, CSRF and audit."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polib
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from campaigns.api_keys import brand_api_key_create, brand_api_key_revoke
from campaigns.models import Campaign, Collaboration
from connect.models import AuditEntry, CreatorAccessToken, CreatorProfile
from connect.tokens import (
    MAX_LIVE_TOKENS,
    creator_token_authenticate,
    creator_token_create,
    creator_token_revoke,
)
from payouts.models import Commission
from tests.campaigns.factories import BrandMembershipFactory, CampaignFactory, CollaborationFactory
from tests.connect.factories import PASSWORD, CreatorProfileFactory, UserFactory
from tests.payouts.pipeline import code_of, event, send

pytestmark = pytest.mark.django_db

TOKEN_PATTERN = re.compile(r"ck_pat_([a-z0-9]{8})_([A-Za-z0-9]{43})")
TOKENS = "/settings/tokens/"
COMMISSIONS = "/api/v1/commissions"


def signed_in(profile: CreatorProfile, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(profile.user)
    return client


def create_through_page(client: Client, name: str = "My spreadsheet") -> str:
    response = client.post(reverse("connect:token_create"), {"name": name})
    assert response.status_code == 200, response.content
    match = TOKEN_PATTERN.search(response.content.decode())
    assert match is not None
    return match.group(0)


def bearer(client: Client, token: str, url: str = COMMISSIONS, **params: Any) -> Any:
    return client.get(url, params, headers={"authorization": f"Bearer {token}"})


@pytest.fixture
def creator() -> CreatorProfile:
    return CreatorProfileFactory(handle="ola")


@pytest.fixture
def campaign() -> Campaign:
    return CampaignFactory(title="Spring")


def earning(campaign: Campaign, creator: CreatorProfile, order_id: str) -> Commission:
    """A commission for the creator, made by the real pipeline from a paid order."""
    collaboration: Collaboration = CollaborationFactory(campaign=campaign, creator=creator)
    send(campaign.brand, event(f"evt-{order_id}", order_id=order_id, code=code_of(collaboration)))
    return Commission.objects.get(order__order_id=order_id, amount_minor__gt=0)


# ---------------------------------------------------------------------------------------
# The page


def test_a_creator_creates_a_token_that_is_shown_once_and_stored_only_as_a_hash(
    creator: CreatorProfile,
) -> None:
    # given
    client = signed_in(creator)

    # when
    response = client.post(reverse("connect:token_create"), {"name": "  My spreadsheet "})
    again = client.get(TOKENS)

    # then the full token is in the answer to the POST, which no cache keeps
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    match = TOKEN_PATTERN.search(response.content.decode())
    assert match is not None
    full, prefix, secret = match.group(0), match.group(1), match.group(2)
    # and only the prefix and a SHA-256 of the secret are stored
    token = CreatorAccessToken.objects.get()
    assert token.creator == creator
    assert token.name == "My spreadsheet"
    assert token.prefix == prefix
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(CreatorAccessToken.objects.filter(pk=token.pk).values().get())
    # and the page never shows it again, only its prefix
    assert again.status_code == 200
    assert full not in again.content.decode()
    assert secret not in again.content.decode()
    assert f"ck_pat_{prefix}_…" in again.content.decode()
    assert "My spreadsheet" in again.content.decode()
    # and the creation is audited without the secret
    entry = AuditEntry.objects.get(action="connect.creator_token.created")
    assert entry.actor == creator.user
    assert entry.target_type == "connect.creatoraccesstoken"
    assert entry.target_id == str(token.pk)
    assert entry.after == {"creator": creator.pk, "name": "My spreadsheet", "prefix": prefix}
    assert secret not in str(entry.after)


def test_a_token_needs_a_name(creator: CreatorProfile) -> None:
    # given
    client = signed_in(creator)

    # when
    response = client.post(reverse("connect:token_create"), {"name": "   "})

    # then
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert TOKEN_PATTERN.search(response.content.decode()) is None
    assert not CreatorAccessToken.objects.exists()


def test_a_creator_holds_at_most_the_limit_of_live_tokens(creator: CreatorProfile) -> None:
    # given the limit is reached, one of them revoked along the way
    tokens = [
        creator_token_create(creator=creator, actor=creator.user, name=f"t{n}")[0]
        for n in range(MAX_LIVE_TOKENS)
    ]
    client = signed_in(creator)

    # when
    refused = client.post(reverse("connect:token_create"), {"name": "one more"})
    creator_token_revoke(token=tokens[0], actor=creator.user)
    accepted = client.post(reverse("connect:token_create"), {"name": "one more"})

    # then
    assert f"You have {MAX_LIVE_TOKENS} live tokens" in refused.content.decode()
    assert TOKEN_PATTERN.search(refused.content.decode()) is None
    assert TOKEN_PATTERN.search(accepted.content.decode()) is not None
    assert CreatorAccessToken.objects.filter(revoked_at__isnull=True).count() == MAX_LIVE_TOKENS


def test_the_account_menu_links_to_the_tokens_page_for_creators_only(
    creator: CreatorProfile,
) -> None:
    # given
    brand_member = BrandMembershipFactory().user

    # when
    creator_home = signed_in(creator).get("/")
    member_client = Client()
    member_client.force_login(brand_member)
    member_page = member_client.get("/brand/")

    # then
    assert f'href="{TOKENS}"' in creator_home.content.decode()
    assert member_page.status_code == 200
    assert f'href="{TOKENS}"' not in member_page.content.decode()


def test_a_brand_member_without_a_creator_profile_cannot_make_a_token() -> None:
    # given a verified brand member who never onboarded as a creator
    member = BrandMembershipFactory(user=UserFactory(verified=True)).user
    client = Client()
    client.force_login(member)

    # when
    page = client.get(TOKENS)
    create = client.post(reverse("connect:token_create"), {"name": "Shop"})

    # then both are sent to creator onboarding, and nothing is made
    assert page.status_code == 302
    assert page["Location"] == reverse("connect:onboarding")
    assert create.status_code == 302
    assert create["Location"] == reverse("connect:onboarding")
    assert not CreatorAccessToken.objects.exists()


def test_only_the_creator_makes_or_revokes_their_tokens(creator: CreatorProfile) -> None:
    # given
    other = CreatorProfileFactory()
    token, _full = creator_token_create(creator=creator, actor=creator.user, name="Mine")

    # when / then
    with pytest.raises(PermissionDenied):
        creator_token_create(creator=creator, actor=other.user, name="Theirs")
    with pytest.raises(PermissionDenied):
        creator_token_revoke(token=token, actor=other.user)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert CreatorAccessToken.objects.count() == 1


def test_the_service_refuses_a_name_too_long(creator: CreatorProfile) -> None:
    with pytest.raises(ValidationError) as raised:
        creator_token_create(creator=creator, actor=creator.user, name="x" * 101)
    assert raised.value.message_dict == {"name": ["Keep the name within 100 characters."]}


def test_creating_and_revoking_are_csrf_protected_forms(creator: CreatorProfile) -> None:
    # given a browser-like client that enforces CSRF, and a token made the normal way
    token, _full = creator_token_create(creator=creator, actor=creator.user, name="Mine")
    client = signed_in(creator, enforce_csrf_checks=True)

    # when the forms are posted without the CSRF token
    create = client.post(reverse("connect:token_create"), {"name": "Forged"})
    revoke = client.post(reverse("connect:token_revoke", args=[token.pk]))

    # then both are refused and nothing changes
    assert create.status_code == 403
    assert revoke.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert CreatorAccessToken.objects.count() == 1
    # and the page's forms carry the token that makes them work
    page = client.get(TOKENS).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 2


def test_only_post_creates_or_revokes(creator: CreatorProfile) -> None:
    token, _full = creator_token_create(creator=creator, actor=creator.user, name="Mine")
    client = signed_in(creator)

    assert client.get(reverse("connect:token_create")).status_code == 405
    assert client.get(reverse("connect:token_revoke", args=[token.pk])).status_code == 405


# ---------------------------------------------------------------------------------------
# Authentication


def test_a_token_reads_its_creators_commissions_and_never_another_creators(
    creator: CreatorProfile, campaign: Campaign
) -> None:
    # given Ola and Ben both earn in the same campaign, and Ola at another brand too
    ben = CreatorProfileFactory(handle="ben")
    olas = earning(campaign, creator, "A-1")
    olas_elsewhere = earning(CampaignFactory(), creator, "B-1")
    bens = earning(campaign, ben, "A-2")
    ola_token = create_through_page(signed_in(creator))
    ben_token = create_through_page(signed_in(ben))
    client = Client()

    # when
    as_ola = bearer(client, ola_token)
    as_ben = bearer(client, ben_token)
    ola_filtered = bearer(client, ola_token, campaign=campaign.pk)

    # then
    assert as_ola.status_code == 200, as_ola.content
    assert {c["id"] for c in as_ola.json()["results"]} == {olas.pk, olas_elsewhere.pk}
    assert {c["creator"]["handle"] for c in as_ola.json()["results"]} == {"ola"}
    assert [c["id"] for c in as_ben.json()["results"]] == [bens.pk]
    assert [c["id"] for c in ola_filtered.json()["results"]] == [olas.pk]


def test_a_token_cannot_filter_by_another_creator(
    creator: CreatorProfile, campaign: Campaign
) -> None:
    # given
    earning(campaign, CreatorProfileFactory(handle="ben"), "A-2")
    token = create_through_page(signed_in(creator))

    # when
    response = bearer(Client(), token, creator="ben")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "errors": {
            "creator": [
                "Only brand API keys filter by creator; a creator sees only their own commissions."
            ]
        },
    }


def test_a_token_records_when_it_was_last_used(creator: CreatorProfile) -> None:
    # given
    token = create_through_page(signed_in(creator))
    before = timezone.now()

    # when
    response = bearer(Client(), token)

    # then
    assert response.status_code == 200
    stored = CreatorAccessToken.objects.get()
    assert stored.last_used_at is not None
    assert stored.last_used_at >= before


def test_a_revoked_token_is_a_401_and_revoking_is_audited_once(creator: CreatorProfile) -> None:
    # given a token that works
    client = signed_in(creator)
    token = create_through_page(client)
    assert bearer(Client(), token).status_code == 200
    stored = CreatorAccessToken.objects.get()

    # when the creator revokes it on the page, twice
    first = client.post(reverse("connect:token_revoke", args=[stored.pk]))
    second = client.post(reverse("connect:token_revoke", args=[stored.pk]))
    response = bearer(Client(), token)

    # then
    assert first.status_code == 302
    assert first["Location"] == TOKENS
    assert second.status_code == 302
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "code": "authentication_failed",
        "errors": {"detail": ["This token is not valid: it is mistyped, unknown or revoked."]},
    }
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    entries = AuditEntry.objects.filter(action="connect.creator_token.revoked")
    assert entries.count() == 1
    assert entries.get().actor == creator.user
    assert entries.get().target_id == str(stored.pk)
    assert creator_token_authenticate(token) is None
    page = client.get(TOKENS).content.decode()
    assert "Revoked" in page


def test_a_creator_cannot_revoke_another_creators_token(creator: CreatorProfile) -> None:
    # given
    other = CreatorProfileFactory()
    theirs, _full = creator_token_create(creator=other, actor=other.user, name="Theirs")

    # when
    response = signed_in(creator).post(reverse("connect:token_revoke", args=[theirs.pk]))

    # then
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # wrong secret
        lambda token: "ck_pat_zzzzzzzz_" + token.rsplit("_", 1)[1],  # unknown prefix
        lambda token: token + "x",  # too long
        lambda token: "ck_pat_",
    ],
    ids=["wrong-secret", "unknown-prefix", "too-long", "marker-only"],
)
def test_a_wrong_token_is_a_401(creator: CreatorProfile, mangle: Any) -> None:
    # given
    _token, full = creator_token_create(creator=creator, actor=creator.user, name="Mine")

    # when
    response = bearer(Client(), mangle(full))

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_the_token_of_a_deactivated_account_is_a_401(creator: CreatorProfile) -> None:
    # given
    _token, full = creator_token_create(creator=creator, actor=creator.user, name="Mine")
    creator.user.is_active = False
    creator.user.save(update_fields=["is_active"])

    # when
    response = bearer(Client(), full)

    # then
    assert response.status_code == 401


def test_a_token_reaches_nothing_but_the_commissions_list(
    creator: CreatorProfile, campaign: Campaign
) -> None:
    # given a creator who is also a member of a brand, with a token
    BrandMembershipFactory(brand=campaign.brand, user=creator.user)
    _token, full = creator_token_create(creator=creator, actor=creator.user, name="Mine")
    client = Client()
    headers = {"authorization": f"Bearer {full}"}

    # when it is sent to the brand endpoints
    order = client.get("/api/v1/orders/A-1", headers=headers)
    events = client.post(
        "/api/v1/order-events", {"events": []}, content_type="application/json", headers=headers
    )
    campaigns = client.get(f"/api/v1/brands/{campaign.brand.slug}/campaigns", headers=headers)
    pause = client.post(f"/api/v1/campaigns/{campaign.pk}/pause", headers=headers)

    # then the key endpoints say which credentials they take, the session ones see nobody
    for response in (order, events):
        assert response.status_code == 401
        assert response.json() == {
            "code": "not_authenticated",
            "errors": {
                "detail": [
                    "A creator token reads only its creator's commissions; this endpoint "
                    "takes a brand API key (“Authorization: Bearer ck_live_…”)."
                ]
            },
        }
    for response in (campaigns, pause):
        assert response.status_code == 403
        assert response.json()["code"] == "not_authenticated"
    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_brand_keys_still_work_beside_creator_tokens(
    creator: CreatorProfile, campaign: Campaign
) -> None:
    # given
    commission = earning(campaign, creator, "A-1")
    key = brand_api_key_create(brand=campaign.brand, actor=None, name="Shop")[1]

    # when
    response = bearer(Client(), key)

    # then
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [commission.pk]


def test_a_token_shares_its_creators_read_limit(creator: CreatorProfile, settings: Any) -> None:
    # given a limit of two requests a minute
    settings.READ_API_RATE_LIMIT = "2/m"
    _token, full = creator_token_create(creator=creator, actor=creator.user, name="Mine")
    _token2, second_full = creator_token_create(creator=creator, actor=creator.user, name="Two")
    client = Client()

    # when the creator spreads requests over two tokens and the session
    first = bearer(client, full)
    second = bearer(client, second_full)
    third = signed_in(creator).get(COMMISSIONS)

    # then the third is over the creator's one limit
    assert first.status_code == 200
    assert second.status_code == 200
    assert third.status_code == 429
    assert third.json()["code"] == "throttled"
    assert int(third["Retry-After"]) > 0


def test_the_revoked_badge_is_translated_for_tokens_and_for_api_keys_apart(
    creator: CreatorProfile, settings: Any, tmp_path: Path
) -> None:
    # given a Spanish catalog where a token is "revocado" and a key (una clave) "revocada"
    catalog = polib.POFile()
    catalog.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    catalog.append(polib.POEntry(msgctxt="creator token", msgid="Revoked", msgstr="Revocado"))
    catalog.append(polib.POEntry(msgctxt="brand API key", msgid="Revoked", msgstr="Revocada"))
    folder = tmp_path / "locale" / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog.save(str(folder / "django.po"))
    subprocess.run(
        ["msgfmt", "--check", "-o", str(folder / "django.mo"), str(folder / "django.po")],
        check=True,
    )
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    token, _full = creator_token_create(creator=creator, actor=creator.user, name="Mine")
    creator_token_revoke(token=token, actor=creator.user)
    member = BrandMembershipFactory()
    api_key, _full_key = brand_api_key_create(brand=member.brand, actor=None, name="ERP")
    brand_api_key_revoke(api_key=api_key, actor=member.user)
    spanish = {"accept-language": "es"}

    # when
    tokens_page = signed_in(creator).get(TOKENS, headers=spanish).content.decode()
    brand_client = Client()
    brand_client.force_login(member.user)
    keys_page = brand_client.get(reverse("brand:integration"), headers=spanish).content.decode()

    # then
    assert ">Revocado</span>" in tokens_page
    assert "Revocada" not in tokens_page
    assert ">Revocada</span>" in keys_page
    assert "Revocado" not in keys_page


# ---------------------------------------------------------------------------------------
# In the browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_creator_makes_uses_and_revokes_a_token_in_chromium(
    live_server: Any, browser: Browser, screenshot: Callable[[Page, str], Path]
) -> None:
    # given a creator who earned a commission, signed in
    campaign = CampaignFactory(title="Spring")
    creator = CreatorProfileFactory(handle="ola", user__email="ola@example.com")
    commission = earning(campaign, creator, "A-1")
    base = live_server.url
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "ola@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    # when she opens API tokens from the account menu and makes one
    page.get_by_role("button", name="ola@example.com").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(f"{base}{TOKENS}")
    page.fill("#id_name", "My spreadsheet")
    page.get_by_role("button", name="Create token").click()

    # then the token is shown once, and it reads her commissions
    shown = page.locator("#new-token")
    expect(shown).to_have_text(TOKEN_PATTERN)
    full = shown.inner_text().strip()
    screenshot(page, "token-created")
    answer = bearer(Client(), full)
    assert [c["id"] for c in answer.json()["results"]] == [commission.pk]

    # when she comes back to the page and revokes it
    page.goto(f"{base}{TOKENS}")
    expect(page.locator("#new-token")).to_have_count(0)
    assert full not in page.content()
    page.get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Yes, revoke").click()

    # then the page says so and the token no longer works
    expect(page.get_by_text("is revoked: requests with it now fail")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("Revoked")
    screenshot(page, "token-revoked")
    assert bearer(Client(), full).status_code == 401
    assert errors == []
