"""Fixtures of the journeys: the project's Stripe-compatible server, and screenshots kept
under test-artifacts/journeys/<test>/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import ARTIFACTS_DIR
from tests.payouts.stripe_fixtures import _stripe_server_process, stripe_server

__all__ = ["_stripe_server_process", "screenshot", "stripe_server"]


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """A full-page screenshot of each step, numbered in the order they were taken."""
    folder = ARTIFACTS_DIR / "journeys" / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 1000))

    def take(page: Page, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.wait_for_load_state("load")
        try:
            page.screenshot(path=str(path), full_page=True, timeout=20_000)
        except PlaywrightTimeoutError:
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(path), full_page=True, timeout=30_000)
        return path

    return take
