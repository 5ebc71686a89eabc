"""Files the site serves itself: uploads under MEDIA_ROOT, and the favicon's old address.

Uploaded avatars and logos are re-encoded WebP images (`connect.images`), but whatever else
lands in MEDIA_ROOT must not run in the browser as a page of this site either: an HTML or
SVG file served inline from our origin could read a signed-in user's pages. So an upload is
served with the type its extension has only for the raster images a browser cannot run;
anything else is a download (`application/octet-stream`, `Content-Disposition:
attachment`). Every answer carries `X-Content-Type-Options: nosniff`, so the browser keeps
to that type, and `Content-Security-Policy: default-src 'none'; sandbox`, so that even a
file opened directly loads nothing and runs no script, on a unique origin.

Production serves uploads from object storage or the front web server with the same
headers (README, "Avatars"); this view serves them where `SERVE_MEDIA` is on.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
)
from django.templatetags.static import static
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from django.views.static import was_modified_since

# Raster image types a browser renders as a picture and never runs; everything else downloads.
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
DOWNLOAD_TYPE = "application/octet-stream"
UPLOAD_CSP = "default-src 'none'; sandbox"


def media_path(path: str) -> Path | None:
    """The file under MEDIA_ROOT that `path` names; None when it names anything else (a
    folder, a missing file, or a place outside MEDIA_ROOT through `..`, an absolute path or
    a symbolic link)."""
    root = Path(settings.MEDIA_ROOT).resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


@require_safe
def media_file(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    """One uploaded file, with headers that keep it from running as a page (module docstring)."""
    found = media_path(path)
    if found is None:
        raise Http404
    mtime = found.stat().st_mtime
    if not was_modified_since(request.META.get("HTTP_IF_MODIFIED_SINCE"), int(mtime)):
        response: HttpResponse | FileResponse = HttpResponseNotModified()
    else:
        image_type = IMAGE_TYPES.get(found.suffix.lower())
        response = FileResponse(
            found.open("rb"),
            content_type=image_type or DOWNLOAD_TYPE,
            as_attachment=image_type is None,
            filename=found.name,
        )
        response["Last-Modified"] = http_date(mtime)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = UPLOAD_CSP
    return response


@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """`/favicon.ico`, which browsers and tools ask for on their own, to the site's icon.

    Not permanent: the icon's collected file name carries its hash, which changes with it.
    """
    return HttpResponseRedirect(static("img/favicon.svg"))
