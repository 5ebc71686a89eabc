"""The brand's integration page: API keys created, listed and revoked in the browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.api_keys import brand_api_key_authenticate, brand_api_key_create
from campaigns.models import BrandApiKey, BrandRole
from connect.models import AuditEntry
from tests.campaigns.factories import BrandFactory, BrandMembershipFactory

pytestmark = pytest.mark.django_db

KEY_IN_PAGE = re.compile(r"ck_live_[a-z0-9]{8}_[A-Za-z0-9]{43}")


def test_a_manager_creates_a_key_and_sees_its_secret_once(client: Client) -> None:
    # given
    member = BrandMembershipFactory(role=BrandRole.MANAGER)
    client.force_login(member.user)

    # when
    response = client.post(reverse("brand:api_key_create"), {"name": "Shop backend"})

    # then
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("max-age=0")
    assert "no-store" in response.headers["Cache-Control"]
    shown = KEY_IN_PAGE.findall(response.content.decode())
    assert len(set(shown)) == 1
    api_key = brand_api_key_authenticate(shown[0])
    assert api_key is not None
    assert api_key.brand == member.brand
    assert api_key.name == "Shop backend"
    assert AuditEntry.objects.get(action="campaigns.api_key.created").actor == member.user

    # when: the page is opened again
    again = client.get(reverse("brand:integration"))

    # then: the key is listed by its prefix, its secret is gone for good
    page = again.content.decode()
    assert again.status_code == 200
    assert KEY_IN_PAGE.findall(page) == []
    assert f"ck_live_{api_key.prefix}_…" in page
    assert "Shop backend" in page
    assert "Never" not in page  # it was used just now, by the lookup above
    assert shown[0] not in str(dict(client.session))


def test_the_page_lists_the_brands_keys_only(client: Client) -> None:
    # given
    member = BrandMembershipFactory()
    mine, _ = brand_api_key_create(brand=member.brand, actor=None, name="Mine")
    theirs, _ = brand_api_key_create(brand=BrandFactory(), actor=None, name="Theirs")
    client.force_login(member.user)

    # when
    response = client.get(reverse("brand:integration"))

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert mine.prefix in page
    assert theirs.prefix not in page
    assert "Never" in page
    assert 'aria-current="page" href="/brand/integration/"' in page


def test_a_key_needs_a_name(client: Client) -> None:
    # given
    member = BrandMembershipFactory()
    client.force_login(member.user)

    # when
    response = client.post(reverse("brand:api_key_create"), {"name": ""})

    # then
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not BrandApiKey.objects.exists()


def test_a_member_revokes_a_key(client: Client) -> None:
    # given
    member = BrandMembershipFactory(role=BrandRole.MANAGER)
    api_key, full_key = brand_api_key_create(brand=member.brand, actor=None, name="ERP")
    client.force_login(member.user)

    # when
    response = client.post(reverse("brand:api_key_revoke", kwargs={"pk": api_key.pk}))

    # then
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("brand:integration")
    api_key.refresh_from_db()
    assert api_key.revoked_by == member.user
    assert brand_api_key_authenticate(full_key) is None
    assert AuditEntry.objects.get(action="campaigns.api_key.revoked").actor == member.user
    page = client.get(reverse("brand:integration")).content.decode()
    assert "Revoked" in page


def test_another_brands_member_cannot_revoke_a_key(client: Client) -> None:
    # given
    outsider = BrandMembershipFactory()
    api_key, full_key = brand_api_key_create(brand=BrandFactory(), actor=None, name="ERP")
    client.force_login(outsider.user)

    # when
    response = client.post(reverse("brand:api_key_revoke", kwargs={"pk": api_key.pk}))

    # then
    assert response.status_code == 404
    assert BrandApiKey.objects.get(pk=api_key.pk).revoked_at is None
    assert brand_api_key_authenticate(full_key) is not None


def test_signed_out_visitors_are_sent_to_log_in(client: Client) -> None:
    # when
    response = client.get(reverse("brand:integration"))

    # then
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("account_login"))


def test_revoking_needs_a_post(client: Client) -> None:
    # given
    member = BrandMembershipFactory()
    api_key, _ = brand_api_key_create(brand=member.brand, actor=None, name="ERP")
    client.force_login(member.user)

    # when
    response = client.get(reverse("brand:api_key_revoke", kwargs={"pk": api_key.pk}))

    # then
    assert response.status_code == 405
    assert BrandApiKey.objects.get(pk=api_key.pk).revoked_at is None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_brand_creates_copies_and_revokes_a_key_in_chromium(
    live_server: Any, browser: Any, screenshot: Any
) -> None:
    # given
    member = BrandMembershipFactory(brand=BrandFactory(name="Zielona Szafa"))
    brand_api_key_create(brand=member.brand, actor=None, name="Old ERP export")
    client = Client()
    client.force_login(member.user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()

    # when: they open the Integration tab and create a key
    page.goto(f"{live_server.url}/brand/")
    page.get_by_role("link", name="Integration").click()
    screenshot(page, "integration")
    page.get_by_label("Key name").fill("Shop backend")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-api-key")).to_be_visible()
    page.wait_for_load_state("load")
    screenshot(page, "key-created")

    # then: the key is shown once and the copy button copies it
    shown = page.inner_text("#new-api-key")
    assert KEY_IN_PAGE.fullmatch(shown)
    page.get_by_role("button", name="Copy").click()
    # the button says so once the clipboard holds the key
    page.get_by_role("button", name="Copied!").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == shown
    api_key = brand_api_key_authenticate(shown)
    assert api_key is not None

    # when: they revoke the old key
    old = BrandApiKey.objects.get(name="Old ERP export")
    page.locator(f"[data-bs-target='#revoke-key-{old.pk}']").click()
    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_text("is revoked: requests with it now fail.")).to_be_visible()
    screenshot(page, "key-revoked")

    # then
    assert page.url == f"{live_server.url}/brand/integration/"
    assert BrandApiKey.objects.get(pk=old.pk).revoked_at is not None
    assert KEY_IN_PAGE.findall(page.content()) == []
    context.close()
