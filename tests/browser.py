"""Helpers for tests in Chromium (the `browser` fixture in tests/conftest.py)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.connect.factories import PASSWORD


def signed_in_page(browser: Browser, base_url: str, email: str, *, width: int = 1280) -> Page:
    """A browser of its own, signed in through the login page as `email` (whose password is
    the factories' PASSWORD)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign In")).to_have_count(0)
    return page
