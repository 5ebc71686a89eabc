"""The site's 500 handler (`handler500`): a database that cannot be reached is a 503.

While PostgreSQL restarts or fails over, every request that needs it fails with an
`OperationalError` (or an `InterfaceError` on a connection that died). That is not a bug to
report but a moment to wait: the answer is 503 with `Retry-After`, which API clients (the
integration guide tells brands to send the same batch again) and browsers understand.
Everything else stays a 500. Under /api/ both come in the API's JSON error shape.

Neither answer touches the database: the page is rendered without the request's context
processors, which would look up the signed-in user.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from campaigns.api import DETAIL_KEY

RETRY_AFTER_SECONDS = 5


def _database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    if _database_unavailable(sys.exc_info()[1]):
        status, code, template = 503, "unavailable", "503.html"
        detail = _("The service is briefly unavailable. Please try again in a few seconds.")
    else:
        status, code, template = 500, "server_error", "500.html"
        detail = _("Something went wrong on our side. Please try again in a moment.")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": code, "errors": {DETAIL_KEY: [detail]}}, status=status)
    else:
        response = HttpResponse(render_to_string(template), status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
