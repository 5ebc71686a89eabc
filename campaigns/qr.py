"""Tracking links and their QR codes, for creators to print or put on a story.

The QR code is drawn by segno on the server, so no script or third-party service sees the
link, and the page's Content-Security-Policy stays closed (the image comes from 'self').
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import segno
from django.conf import settings

if TYPE_CHECKING:
    from campaigns.models import Collaboration

# Medium error correction survives a scuffed print; segno raises it for free when the
# chosen version has room to spare.
_ERROR_LEVEL = "m"
_DARK = "#111827"


def tracking_link(collaboration: Collaboration) -> str:
    """The public link a creator shares: `<SITE_URL>/r/<tracking code>`.

    Built from `SITE_URL` rather than the request's host, so a link copied from a page served
    on an internal address still points at the public site.
    """
    return f"{settings.SITE_URL}/r/{collaboration.tracking_code}"


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error=_ERROR_LEVEL, micro=False)


def qr_svg(url: str) -> bytes:
    """A standalone SVG document of the link's QR code (crisp at any size)."""
    out = io.BytesIO()
    _qr(url).save(
        out, kind="svg", scale=8, border=4, dark=_DARK, light="#ffffff", title=url, xmldecl=True
    )
    return out.getvalue()


def qr_png(url: str) -> bytes:
    """A PNG of the link's QR code, large enough to print (about 10 cm at 300 dpi)."""
    out = io.BytesIO()
    _qr(url).save(out, kind="png", scale=24, border=4, dark=_DARK, light="#ffffff")
    return out.getvalue()
