"""Steps the marketplace journeys share: each is what a person does in their own browser, or
what a brand's shop and a visitor do over plain HTTP."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from campaigns.clicks import click_buffer_flush
from payouts import processing
from tests.connect.factories import PASSWORD

TIMEOUT_MS = 20_000
VISITOR_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def new_page(browser: Browser, base_url: str) -> Page:
    """A browser of its own (cookies, clipboard) for one person."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def signed_in(browser: Browser, base_url: str, email: str) -> Page:
    page = new_page(browser, base_url)
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign In")).to_have_count(0)
    return page


def sign_up_and_verify(browser: Browser, base_url: str, email: str) -> Page:
    """Sign up, then follow the link of the verification email; ends on the onboarding page."""
    page = new_page(browser, base_url)
    page.goto(f"{base_url}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_text("Verify your email address")).to_be_visible()
    message = next(m for m in reversed(mail.outbox) if m.to == [email])
    found = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)
    assert found is not None, message.body
    page.goto(found.group(0))
    expect(page).to_have_url(f"{base_url}/onboarding/")
    return page


def onboard_creator(page: Page, *, handle: str, name: str, country: str) -> None:
    page.fill("#id_handle", handle)
    page.fill("#id_display_name", name)
    page.fill("#id_bio", "Trail running, every weekend, on film.")
    page.select_option("#id_country", country)
    page.check("input[name=languages][value=en]")
    page.check("input[name=niches][value=fitness]")
    page.select_option("#id_social-0-platform", "instagram")
    page.fill("#id_social-0-handle_or_url", f"@{handle}")
    page.fill("#id_social-0-follower_count", "25000")
    page.get_by_role("button", name="Create my profile").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def brand_creates_campaign(page: Page, base_url: str, *, brand: str, title: str) -> None:
    """A signed-up user creates their brand and drafts an open 20 % campaign in euro."""
    page.goto(f"{base_url}/brands/new/")
    page.fill("#id_name", brand)
    page.fill("#id_website", "https://trail.example.com")
    page.select_option("#id_country", "ES")
    page.get_by_role("button", name="Create brand").click()
    expect(page.get_by_text("Your brand is waiting for verification")).to_be_visible()
    page.get_by_role("link", name="New campaign").click()
    page.fill("#id_title", title)
    page.fill("#id_landing_url", "https://shop.trail.example/spring")
    page.select_option("#id_niche", label="Fitness")
    page.fill("#id_brief", "Run with the **Summit 3** on a real trail.")
    page.fill("#id_commission_percent", "20")
    page.select_option("#id_currency", "EUR")
    page.check("input[name=join_mode][value=open]")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def staff_verify_brand(admin: Page, base_url: str, brand: str) -> None:
    admin.goto(f"{base_url}/admin/campaigns/brand/")
    admin.locator("tr", has_text=brand).locator("input.action-select").check()
    admin.select_option("select[name=action]", label="Verify selected brands")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_text("1 brand verified; its owners are emailed.")).to_be_visible()


def brand_publishes(page: Page) -> None:
    page.reload()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("The campaign is live: creators can find it now.")).to_be_visible()


def brand_creates_api_key(page: Page, base_url: str) -> str:
    """Create a key on the integration page and copy it with the page's copy button."""
    page.goto(f"{base_url}/brand/integration/")
    page.fill("#id_name", "Shop backend")
    page.get_by_role("button", name="Create key").click()
    key_box = page.locator("#new-api-key")
    expect(key_box).to_have_text(re.compile(r"^\s*ck_live_\S+\s*$"))
    return copy_from(page, "new-api-key")


def copy_from(page: Page, target: str) -> str:
    """Press the Copy button of `target` and read what it put on the clipboard."""
    button = page.locator(f"button[data-copy={target}]")
    button.click()
    expect(button).to_contain_text("Copied!")
    copied: str = page.evaluate("navigator.clipboard.readText()")
    return copied


def creator_joins(page: Page, base_url: str, title: str) -> tuple[str, str]:
    """Find the campaign, join it, copy the tracking link; returns (link, discount code)."""
    page.goto(f"{base_url}/campaigns/")
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("button", name="Join campaign").click()
    page.goto(f"{base_url}/collaborations/")
    page.get_by_role("link", name=title).first.click()
    expect(page.locator("#tracking-link")).to_contain_text("/r/")
    link = copy_from(page, "tracking-link")
    return link, page.input_value("#discount-code")


def visitor_clicks(link: str) -> str:
    """A visitor follows the link (the shop is elsewhere: the redirect is not followed); beat's
    flush then stores the click. Returns the click id the shop receives."""
    response = requests.get(
        link, headers={"User-Agent": VISITOR_AGENT}, allow_redirects=False, timeout=30
    )
    assert response.status_code == 302, response.text
    click_id = parse_qs(urlsplit(response.headers["Location"]).query)["click_id"][0]
    assert click_buffer_flush() == 1
    return click_id


def post_events(base_url: str, key: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = requests.post(
        f"{base_url}/api/v1/order-events",
        json={"events": events},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def order_paid(
    event_id: str, order_id: str, amount: str, *, click_id: str | None = None, code: str = ""
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": event_id,
        "type": "order.paid",
        "order_id": order_id,
        "occurred_at": timezone.now().isoformat(),
        "amount": amount,
        "currency": "EUR",
    }
    if click_id:
        event["click_id"] = click_id
    if code:
        event["code"] = code
    return event


def order_refunded(event_id: str, order_id: str, amount: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "order.refunded",
        "order_id": order_id,
        "occurred_at": timezone.now().isoformat(),
        "amount": amount,
        "currency": "EUR",
    }


def hold_passes(days: int) -> int:
    """Beat's maturation, run as of `days` from now: the hold is over without waiting."""
    later = timezone.now() + dt.timedelta(days=days)
    total = 0
    while approved := processing.commissions_mature(now=later):
        total += approved
    return total
