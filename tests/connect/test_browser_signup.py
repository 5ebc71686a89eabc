"""A new creator's first minutes, in real Chromium against the live server."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from connect.models import CreatorProfile
from tests.conftest import make_image_bytes
from tests.connect.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("niches"),
]


def _sign_up_and_verify(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_text("Verify your email address")).to_be_visible()
    message = next(m for m in reversed(mail.outbox) if m.to == [email])
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    page.goto(link)
    expect(page).to_have_url(f"{base_url}/onboarding/")


def _fill_onboarding(page: Page, handle: str) -> None:
    page.fill("#id_handle", handle)
    page.fill("#id_display_name", "Ola Kowalska")
    page.fill("#id_bio", "Slow fashion and thrift hauls from Kraków.")
    page.select_option("#id_country", "PL")
    page.check("input[name=languages][value=pl]")
    page.check("input[name=languages][value=en]")
    page.check("input[name=niches][value=fashion]")
    page.check("input[name=niches][value=beauty]")
    page.set_input_files(
        "#id_avatar",
        files=[
            {
                "name": "me.png",
                "mimeType": "image/png",
                "buffer": make_image_bytes("PNG", (900, 600), "#db2777"),
            }
        ],
    )
    page.select_option("#id_social-0-platform", "instagram")
    page.fill("#id_social-0-handle_or_url", "https://www.instagram.com/ola.creates/")
    page.fill("#id_social-0-follower_count", "12500")
    page.select_option("#id_social-1-platform", "tiktok")
    page.fill("#id_social-1-handle_or_url", "@ola.creates")
    page.fill("#id_social-1-follower_count", "48000")


def test_a_creator_signs_up_verifies_onboards_and_sees_their_profile(
    live_server, browser: Browser, screenshot
) -> None:  # type: ignore[no-untyped-def]
    # given: a new visitor
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    base_url = live_server.url
    page.goto(base_url)
    screenshot(page, "landing")

    # when: they sign up, follow the link from the email and complete onboarding
    _sign_up_and_verify(page, base_url, "ola@example.com")
    _fill_onboarding(page, "Ola_Creates")
    screenshot(page, "onboarding-filled")
    page.get_by_role("button", name="Create my profile").click()

    # then: their public profile shows what they entered
    expect(page).to_have_url(f"{base_url}/@Ola_Creates")
    expect(page.get_by_role("heading", name="Ola Kowalska")).to_be_visible()
    expect(page.get_by_text("@Ola_Creates · Poland")).to_be_visible()
    expect(page.locator(".niche-badge")).to_have_text(["Fashion", "Beauty"])
    expect(page.get_by_text("48K followers")).to_be_visible()
    expect(page.get_by_text("Creates in: English, Polski")).to_be_visible()
    expect(page.get_by_text("12.5K followers")).to_be_visible()
    avatar = page.locator("img.avatar")
    expect(avatar).to_have_attribute("src", re.compile(r"^/media/avatars/[0-9a-f]{32}\.webp$"))
    expect(avatar).to_have_js_property("complete", True)
    assert page.evaluate("document.querySelector('img.avatar').naturalWidth") == 512
    screenshot(page, "public-profile")
    page.close()


def test_a_second_user_cannot_take_the_same_handle_in_another_case(
    live_server, browser: Browser, screenshot
) -> None:  # type: ignore[no-untyped-def]
    # given: a creator already holds Ola_Creates
    first = browser.new_page()
    _sign_up_and_verify(first, live_server.url, "ola@example.com")
    _fill_onboarding(first, "Ola_Creates")
    first.get_by_role("button", name="Create my profile").click()
    expect(first).to_have_url(f"{live_server.url}/@Ola_Creates")
    first.close()

    # when: someone else tries the same handle in lower case
    context = browser.new_context()
    page = context.new_page()
    _sign_up_and_verify(page, live_server.url, "copycat@example.com")
    _fill_onboarding(page, "ola_creates")
    page.get_by_role("button", name="Create my profile").click()

    # then
    expect(page.get_by_text("This handle is already taken.")).to_be_visible()
    screenshot(page, "handle-taken")
    assert list(CreatorProfile.objects.values_list("handle", flat=True)) == ["Ola_Creates"]
    context.close()
