"""Shared fixtures: the real PostgreSQL (pytest-django) and the real Redis, per xdist worker."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


@pytest.fixture(autouse=True)
def _isolated_media(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]


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
