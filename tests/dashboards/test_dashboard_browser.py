"""The three dashboards in real Chromium, with data: a creator's earnings, a brand's
dashboard and the staff overview render their figures and charts (screenshots go to
test-artifacts/ for people to look at)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import signed_in_page
from tests.dashboards.scenario import build_marketplace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_creator_brand_and_staff_dashboards_show_their_figures_and_charts(
    live_server: Any,
    browser: Browser,
    screenshot: Callable[[Page, str], Path],
    settings: Any,
    niches: None,
) -> None:
    # given
    market = build_marketplace(settings)
    base = live_server.url

    # the creator opens her earnings from the navigation
    page = signed_in_page(browser, base, market.ola.user.email)
    page.get_by_role("link", name="Earnings", exact=True).click()
    expect(page.get_by_role("heading", name="Earnings", exact=True)).to_be_visible()
    money = page.locator("[data-money=EUR]")
    expect(money.locator("[data-figure=balance]")).to_have_text("€42.00")
    expect(money.locator("[data-figure=approved]")).to_have_text("€20.00")
    expect(page.locator("[data-chart=EUR] svg[role=img]")).to_be_visible()
    expect(page.locator("[data-chart=EUR] [data-figure=earned]")).to_have_text("€92.00")
    expect(page.locator("[data-chart=PLN] [data-figure=clicks]")).to_have_text("6")
    screenshot(page, "creator-dashboard")
    page.get_by_role("link", name="See every commission").click()
    expect(page.locator("tr[data-commission]")).to_have_count(6)
    screenshot(page, "creator-commissions")

    # the brand owner opens the dashboard from the brand's tabs
    page = signed_in_page(browser, base, market.moda_owner.email)
    page.goto(f"{base}/brand/")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    eur = page.locator("[data-overview=EUR]")
    expect(eur.locator("[data-figure=revenue]")).to_have_text("€400.00")
    expect(eur.locator("[data-figure=cost]")).to_have_text("€35.00")
    expect(page.locator("[data-health] [data-figure=refused]")).to_have_text("1")
    expect(page.get_by_role("link", name="N-1")).to_be_visible()
    screenshot(page, "brand-dashboard")

    # staff open the platform overview
    page = signed_in_page(browser, base, market.staff.email)
    page.get_by_role("link", name="Platform", exact=True).click()
    expect(page.get_by_role("heading", name="Platform overview")).to_be_visible()
    expect(page.locator("tr[data-currency=EUR] [data-figure=paid_out]")).to_have_text("€50.00")
    expect(page.locator("[data-figure=refused_week]")).to_have_text("2")
    screenshot(page, "admin-dashboard")
