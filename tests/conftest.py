"""Shared fixtures: the real PostgreSQL (pytest-django) and the real Redis, per xdist worker."""

from __future__ import annotations

import importlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import translation
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError


@pytest.fixture(scope="session", autouse=True)
def _no_stray_sessions_at_teardown(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Tests that SIGKILL a worker or web server may leave its PostgreSQL session alive for a
    moment after the kill; end such sessions before the test database is dropped."""
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _isolated_media(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # LocaleMiddleware activates each request's language in the thread and leaves it there:
    # a request in Spanish must not make the next test's messages Spanish.
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    # Rate-limit counters and sessions live in Redis: every test starts from nothing.
    cache.clear()
    yield
    cache.clear()


def make_image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (300, 200), color: str = "#4f46e5"
) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def png_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("avatar.png", make_image_bytes("PNG"), content_type="image/png")


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS_DIR = Path(
    os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parent.parent / "test-artifacts")
)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (Playwright's own browser download is not used)."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot under test-artifacts/<test name>/ for people to look at."""
    folder = ARTIFACTS_DIR / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page: Page, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        # A screenshot taken while the page navigates can wait for a frame that never
        # comes: settle the page first, then allow one more try on a loaded machine.
        page.wait_for_load_state("load")
        try:
            page.screenshot(path=str(path), full_page=True, timeout=20_000)
        except PlaywrightTimeoutError:
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(path), full_page=True, timeout=30_000)
        return path

    return take


@pytest.fixture
def niches(transactional_db: None) -> None:
    """The managed niche list (a data migration) again, for transactional tests: the flush
    after each of them empties every table, migration data included."""
    seed_module = importlib.import_module("connect.migrations.0002_seed_niches")
    seed_module.seed(django_apps, None)
