"""Avatar images: decoded, checked and re-encoded so that nothing but pixels is stored."""

from __future__ import annotations

import io
import uuid
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
# Refuse images whose pixel count would make decoding itself an attack (decompression bombs).
MAX_PIXELS = 40_000_000


def reencode_avatar(upload: UploadedFile) -> ContentFile[bytes]:
    """Validate an uploaded avatar and return a square WebP re-encoding of it.

    The original bytes are never stored: the image is decoded, EXIF orientation applied,
    cropped to a square, resized and written anew, which drops every metadata block.
    """
    max_bytes = settings.AVATAR_MAX_BYTES
    if upload.size is None or upload.size > max_bytes:
        raise ValidationError(
            _("The image is larger than %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)},
            code="too_large",
        )
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(
            _("The image is larger than %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)},
            code="too_large",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            image_format = probe.format
            width, height = probe.size
            probe.verify()
            if width * height > MAX_PIXELS:
                raise ValidationError(_("The image has too many pixels."), code="too_many_pixels")
            image = Image.open(io.BytesIO(data))
            image.load()
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ValidationError(
            _("This file is not a valid image. Upload a JPEG, PNG or WebP picture."),
            code="invalid_image",
        ) from exc
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(_("Upload a JPEG, PNG or WebP picture."), code="invalid_format")
    upright = ImageOps.exif_transpose(image)
    pixels = upright.convert("RGBA" if upright.mode in {"RGBA", "LA", "P"} else "RGB")
    size = settings.AVATAR_SIZE_PX
    square = ImageOps.fit(pixels, (size, size), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="WEBP", quality=85, method=4)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.webp")
