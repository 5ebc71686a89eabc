"""The Campaigns story end to end in real Chromium: a brand, a staff member, a creator and a
visitor, each in their own browser."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from campaigns.clicks import click_buffer_flush, click_resolve
from campaigns.models import Campaign, CampaignStatus, Collaboration, CollaborationStatus
from tests.connect.factories import PASSWORD, CreatorProfileFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("niches"),
]


def _signed_in(browser: Browser, base_url: str, email: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign In")).to_have_count(0)
    return context, page


def test_brand_publishes_creator_applies_is_accepted_and_a_visitor_click_is_counted(
    live_server, browser: Browser, screenshot
) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    owner = UserFactory(email="marta@trail.example", verified=True)
    staff = UserFactory(
        email="staff@connect.example", verified=True, is_staff=True, is_superuser=True
    )
    creator = CreatorProfileFactory(
        handle="ola_runs", display_name="Ola Runs", country="ES", max_followers=40000
    )

    # given: the brand owner creates their brand and drafts a campaign
    _brand_context, brand = _signed_in(browser, base, owner.email)
    brand.goto(f"{base}/brands/new/")
    brand.fill("#id_name", "Trail Co")
    brand.fill("#id_website", "https://trail.example.com")
    brand.select_option("#id_country", "ES")
    brand.get_by_role("button", name="Create brand").click()
    expect(brand.get_by_text("Your brand is waiting for verification")).to_be_visible()
    brand.get_by_role("link", name="New campaign").click()
    brand.fill("#id_title", "Spring trail season")
    brand.fill("#id_landing_url", "https://shop.trail.example/spring?utm_source=connect")
    brand.select_option("#id_niche", label="Fitness")
    brand.fill("#id_brief", "Run with the **Summit 3** on a real trail.")
    brand.fill("#id_commission_percent", "12.5")
    brand.check("input[name=join_mode][value=application]")
    brand.get_by_role("button", name="Save draft").click()
    expect(brand.get_by_role("heading", name="Spring trail season")).to_be_visible()
    screenshot(brand, "brand-draft")

    # when: staff verify the brand in the admin, and the owner publishes
    _staff_context, admin = _signed_in(browser, base, staff.email)
    admin.goto(f"{base}/admin/campaigns/brand/")
    admin.locator("tr", has_text="Trail Co").locator("input.action-select").check()
    admin.select_option("select[name=action]", label="Verify selected brands")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_text("1 brand verified; its owners are emailed.")).to_be_visible()
    screenshot(admin, "admin-verified")
    brand.reload()
    brand.get_by_role("button", name="Publish").click()

    # then
    expect(brand.get_by_text("The campaign is live: creators can find it now.")).to_be_visible()
    campaign = Campaign.objects.get(title="Spring trail season")
    assert campaign.status == CampaignStatus.ACTIVE

    # when: the creator finds it through search and applies with a pitch
    _creator_context, me = _signed_in(browser, base, creator.user.email)
    me.goto(f"{base}/campaigns/")
    me.fill("input[name=q]", "trail")
    me.keyboard.press("Enter")
    expect(me).to_have_url(re.compile(r"[?&]q=trail"))
    screenshot(me, "marketplace-search")
    me.get_by_role("link", name="Spring trail season").click()
    me.fill("#id_pitch", "I run 60 km a week in the Pyrenees and film every long run.")
    me.get_by_role("button", name="Send application").click()
    expect(me.get_by_text("You applied on", exact=False)).to_be_visible()

    # and: the brand accepts the application
    brand.reload()
    expect(brand.get_by_text("I run 60 km a week in the Pyrenees")).to_be_visible()
    brand.get_by_role("button", name="Accept").click()
    expect(brand.get_by_text("@ola_runs is in")).to_be_visible()
    collaboration = Collaboration.objects.get(campaign=campaign, creator=creator)
    assert collaboration.status == CollaborationStatus.ACTIVE

    # then: the creator sees their link, code and QR code
    me.goto(f"{base}/collaborations/")
    me.get_by_role("link", name="Spring trail season").first.click()
    expect(me).to_have_url(f"{base}/collaborations/{collaboration.pk}/")
    link = me.inner_text("#tracking-link")
    assert link.endswith(f"/r/{collaboration.tracking_code}")
    assert me.input_value("#discount-code") == "OLARUNS"
    # the QR image loads after the page: wait for it before measuring
    expect(me.locator("img[src$='qr.svg']")).to_have_js_property("complete", True)
    assert me.locator("img[src$='qr.svg']").evaluate("img => img.naturalWidth > 0")
    screenshot(me, "collaboration")

    # when: a visitor follows the link (the shop itself is outside this machine, so the
    # visitor's browser stops at our answer)
    visitor_context = browser.new_context(
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
    )
    response = visitor_context.request.get(
        f"{base}/r/{collaboration.tracking_code}", max_redirects=0
    )

    # then: a 302 to the landing page with the landing page's own parameters and a click id
    assert response.status == 302
    landed = urlsplit(response.headers["location"])
    params = parse_qs(landed.query)
    assert (landed.scheme, landed.netloc, landed.path) == ("https", "shop.trail.example", "/spring")
    assert params["utm_source"] == ["connect"]
    click_id = params["click_id"][0]

    # and: once beat's flush has run, the click is stored and counted on the creator's page
    assert click_buffer_flush() == 1
    resolved = click_resolve(click_id)
    assert resolved is not None and resolved[0] == collaboration.pk
    me.reload()
    performance = me.locator("section", has_text="Performance")
    expect(performance.locator(".display-6")).to_have_text("1")
    expect(performance.get_by_text("click on your link")).to_be_visible()
    screenshot(me, "collaboration-with-click")
    visitor_context.close()
