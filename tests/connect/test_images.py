import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from connect.images import reencode_avatar
from tests.conftest import make_image_bytes


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_reencode_avatar_returns_a_square_webp_for_each_accepted_format(
    fmt: str, content_type: str
) -> None:
    # given
    upload = SimpleUploadedFile(
        f"a.{fmt.lower()}", make_image_bytes(fmt, (640, 360)), content_type=content_type
    )

    # when
    result = reencode_avatar(upload)

    # then
    image = Image.open(io.BytesIO(result.read()))
    assert image.format == "WEBP"
    assert image.size == (512, 512)
    assert result.name.endswith(".webp")


def test_reencode_avatar_strips_metadata() -> None:
    # given: a JPEG carrying EXIF (camera model, GPS would sit here too)
    image = Image.new("RGB", (400, 400), "red")
    exif = Image.Exif()
    exif[0x0110] = "SecretCam 3000"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    upload = SimpleUploadedFile("a.jpg", out.getvalue(), content_type="image/jpeg")

    # when
    result = reencode_avatar(upload)

    # then
    data = result.read()
    assert b"SecretCam" not in data
    assert dict(Image.open(io.BytesIO(data)).getexif()) == {}


def test_reencode_avatar_refuses_a_text_file_named_png() -> None:
    # given
    upload = SimpleUploadedFile(
        "avatar.png", b"<html><script>alert(1)</script></html>", content_type="image/png"
    )

    # when
    with pytest.raises(ValidationError) as exc:
        reencode_avatar(upload)

    # then
    assert exc.value.code == "invalid_image"
    assert exc.value.messages == [
        "This file is not a valid image. Upload a JPEG, PNG or WebP picture."
    ]


def test_reencode_avatar_refuses_files_over_5_mb() -> None:
    # given
    upload = SimpleUploadedFile(
        "big.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024), content_type="image/png"
    )

    # when
    with pytest.raises(ValidationError) as exc:
        reencode_avatar(upload)

    # then
    assert exc.value.code == "too_large"
    assert exc.value.messages == ["The image is larger than 5 MB."]


def test_reencode_avatar_refuses_other_image_formats() -> None:
    # given: a real GIF, which we do not accept
    upload = SimpleUploadedFile("a.gif", make_image_bytes("GIF"), content_type="image/gif")

    # when
    with pytest.raises(ValidationError) as exc:
        reencode_avatar(upload)

    # then
    assert exc.value.code == "invalid_format"


def test_reencode_avatar_refuses_a_truncated_image() -> None:
    # given
    data = make_image_bytes("PNG", (800, 800))
    upload = SimpleUploadedFile("cut.png", data[: len(data) // 2], content_type="image/png")

    # when
    with pytest.raises(ValidationError) as exc:
        reencode_avatar(upload)

    # then
    assert exc.value.code == "invalid_image"
