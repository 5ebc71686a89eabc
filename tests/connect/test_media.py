"""Uploaded files: what is let in (only images, re-encoded) and how MEDIA_ROOT is served (only
raster images inline; anything else a download that cannot run as a page of the site)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from campaigns.models import Brand
from connect.models import CreatorProfile
from tests.conftest import make_image_bytes
from tests.connect.factories import UserFactory

pytestmark = pytest.mark.django_db

SANDBOX = "default-src 'none'; sandbox"
PAGE = b"<!DOCTYPE html><html><body><script>fetch('/settings/tokens/')</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
    b"<script>fetch('/settings/tokens/')</script></svg>"
)


def media_root() -> Path:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def place(name: str, content: bytes) -> Path:
    path = media_root() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def onboarding(**overrides: object) -> dict[str, object]:
    return {
        "handle": "ola_creates",
        "display_name": "Ola Kowalska",
        "country": "PL",
        "social-TOTAL_FORMS": "0",
        "social-INITIAL_FORMS": "0",
        "social-MIN_NUM_FORMS": "0",
        "social-MAX_NUM_FORMS": "12",
        **overrides,
    }


def files_under_media() -> list[str]:
    return sorted(str(p.relative_to(media_root())) for p in media_root().rglob("*") if p.is_file())


# ---------------------------------------------------------------------------------------
# Serving


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.html", PAGE),
        ("avatars/x.svg", SVG),
        ("page.HTM", PAGE),
        ("no-extension", PAGE),
        ("report.pdf", b"%PDF-1.4 <script>alert(1)</script>"),
    ],
)
def test_a_file_that_is_not_a_raster_image_is_served_as_a_download_that_cannot_run(
    client: Client, name: str, content: bytes
) -> None:
    # given
    place(name, content)

    # when
    response = client.get(f"/media/{name}")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    filename = name.rsplit("/", 1)[-1]
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert body(response) == content


def test_an_uploaded_avatar_is_served_as_the_image_it_was_re_encoded_to(client: Client) -> None:
    # given a creator who uploaded a PNG avatar, stored re-encoded as WebP
    user = UserFactory(verified=True)
    client.force_login(user)
    upload = SimpleUploadedFile("me.png", make_image_bytes("PNG"), content_type="image/png")
    assert client.post("/onboarding/", onboarding(avatar=upload)).status_code == 302
    avatar = CreatorProfile.objects.get(user=user).avatar

    # when
    response = client.get(avatar.url)

    # then
    assert avatar.url.startswith("/media/avatars/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert "attachment" not in response.get("Content-Disposition", "")
    assert Image.open(io.BytesIO(body(response))).format == "WEBP"
    # a file answer sets no cookie, even to a signed-in visitor
    assert response.cookies == {}


@pytest.mark.parametrize(
    ("name", "fmt", "content_type"),
    [
        ("a.png", "PNG", "image/png"),
        ("a.JPG", "JPEG", "image/jpeg"),
        ("a.jpeg", "JPEG", "image/jpeg"),
        ("a.webp", "WEBP", "image/webp"),
        ("a.gif", "GIF", "image/gif"),
    ],
)
def test_raster_images_are_served_with_their_image_type(
    client: Client, name: str, fmt: str, content_type: str
) -> None:
    # given
    content = make_image_bytes(fmt, (8, 8))
    place(name, content)

    # when
    response = client.get(f"/media/{name}")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert body(response) == content


def test_an_unchanged_file_answers_not_modified_with_the_same_headers(client: Client) -> None:
    # given
    place("a.png", make_image_bytes("PNG", (8, 8)))
    first = client.get("/media/a.png")

    # when
    again = client.get("/media/a.png", headers={"if-modified-since": first["Last-Modified"]})

    # then
    assert again.status_code == 304
    assert again["X-Content-Type-Options"] == "nosniff"
    assert again["Content-Security-Policy"] == SANDBOX


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "avatars/../../secret.txt",
        "%2e%2e/secret.txt",
        "link/secret.txt",
        "avatars",
        "avatars/",
        "missing.png",
    ],
)
def test_paths_outside_media_root_folders_and_missing_files_are_not_found(
    client: Client, tmp_path: Path, path: str
) -> None:
    # given a file beside MEDIA_ROOT, a symbolic link out of it, and a folder in it
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    root = media_root()
    assert secret.parent == root.parent
    (root / "link").symlink_to(tmp_path, target_is_directory=True)
    place("avatars/a.webp", make_image_bytes("WEBP", (8, 8)))

    # when
    response = client.get(f"/media/{path}")

    # then
    assert response.status_code == 404
    assert b"not for the web" not in response.content


def test_an_absolute_path_is_not_found(client: Client, tmp_path: Path) -> None:
    # given
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")

    # when
    response = client.get(f"/media/{secret}")

    # then
    assert response.status_code == 404


def test_uploaded_files_are_only_read(client: Client) -> None:
    # given
    place("a.png", make_image_bytes("PNG", (8, 8)))

    # when
    response = client.post("/media/a.png")

    # then
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------
# Uploading

NOT_AN_IMAGE = "This file is not a valid image. Upload a JPEG, PNG or WebP picture."


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("avatar.png", PAGE, "image/png"),
        ("avatar.html", PAGE, "text/html"),
        ("avatar.svg", SVG, "image/svg+xml"),
    ],
)
def test_an_avatar_that_is_not_a_picture_is_refused_with_a_form_error(
    client: Client, name: str, content: bytes, content_type: str
) -> None:
    # given
    client.force_login(UserFactory(verified=True))
    upload = SimpleUploadedFile(name, content, content_type=content_type)

    # when
    response = client.post("/onboarding/", onboarding(avatar=upload))

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["avatar"] == [NOT_AN_IMAGE]
    assert NOT_AN_IMAGE in response.content.decode()
    assert CreatorProfile.objects.count() == 0
    assert files_under_media() == []


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("logo.png", PAGE, "image/png"), ("logo.svg", SVG, "image/svg+xml")],
)
def test_a_brand_logo_that_is_not_a_picture_is_refused_with_a_form_error(
    client: Client, name: str, content: bytes, content_type: str
) -> None:
    # given
    client.force_login(UserFactory(verified=True))
    upload = SimpleUploadedFile(name, content, content_type=content_type)

    # when
    response = client.post(
        "/brands/new/",
        {
            "name": "Trail Co",
            "slug": "",
            "website": "https://trail.example.com",
            "country": "ES",
            "logo": upload,
        },
    )

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["logo"] == [NOT_AN_IMAGE]
    assert Brand.objects.count() == 0
    assert files_under_media() == []
