"""What the OpenAPI schema says the same way for every endpoint of /api/v1/.

The error shape (`campaigns.api.api_exception_handler` writes it) and the documented error
responses with real examples, the rate limit's `Retry-After` header, the words of cursor
pagination and the page serializer every list answers with, and decimal strings. Only the
schema reads these; the views' behaviour is in their own modules.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

# The words of every list's `cursor` parameter, and of its answer's links.
CURSOR_HELP = (
    "Where the page starts: the `cursor` of a `next` or `previous` link of the page "
    "before. Leave it out for the first page; a cursor the API did not give is a 400."
)
NEXT_HELP = "The next page's URL, with the same filters; null on the last page."
PREVIOUS_HELP = "The previous page's URL, with the same filters; null on the first page."


# A decimal number as a string, in the schema: money in the currency's minor unit
# ("129.99", JPY "105") or a rate ("12.50").
DECIMAL_STRING_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"^-?\d{1,15}(\.\d{1,15})?$",
    "example": "129.99",
}


class ErrorSerializer(serializers.Serializer):
    """Every error of the API, whatever its status."""

    code = serializers.CharField(
        help_text="What went wrong, for programs: `invalid`, `parse_error`, "
        "`not_authenticated`, `authentication_failed`, `permission_denied`, "
        "`brand_suspended`, `not_found`, `unsupported_media_type`, `too_large`, "
        "`throttled`."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages for people, by the path of the field they are about (nested "
        "fields joined by dots, list items by their index: `events`, `terms.hold_days`); "
        "messages about no field are under `detail`.",
    )


def error_example(name: str, code: str, errors: dict[str, list[str]]) -> OpenApiExample:
    return OpenApiExample(name, value={"code": code, "errors": errors}, response_only=True)


# The errors the endpoints answer, each with what it means and a real example; a view lists
# the statuses it can answer (`api_errors(400, 404)`), with its own words where they differ.
_ERRORS: dict[int, tuple[str, list[OpenApiExample]]] = {
    400: (
        "A parameter or a field is not valid; each message is under its field.",
        [error_example("Invalid field", "invalid", {"status": ['"gone" is not a valid choice.']})],
    ),
    401: (
        "No credentials, or a wrong, unknown or revoked key or token. "
        "`WWW-Authenticate` says which scheme to use.",
        [
            error_example(
                "Not authenticated",
                "not_authenticated",
                {
                    "detail": [
                        "Send your brand API key in the header “Authorization: Bearer ck_live_…”."
                    ]
                },
            ),
            error_example(
                "Wrong key",
                "authentication_failed",
                {"detail": ["This API key is not valid: it is mistyped, unknown or revoked."]},
            ),
        ],
    ),
    403: (
        "Not signed in, the CSRF token is missing on a write, or the caller may not do this.",
        [
            error_example(
                "Not signed in",
                "not_authenticated",
                {"detail": ["Authentication credentials were not provided."]},
            ),
            error_example(
                "Not allowed",
                "permission_denied",
                {"detail": ["Your brand must be verified before it can publish campaigns."]},
            ),
        ],
    ),
    404: (
        "Nothing with this id is visible to the caller: another brand's object answers "
        "exactly like one that does not exist.",
        [error_example("Not found", "not_found", {"detail": ["Not found."]})],
    ),
    413: (
        "The body is larger than the limit (4 MiB by default); send fewer events a request.",
        [
            error_example(
                "Too large",
                "too_large",
                {"detail": ["The body is larger than 4194304 bytes; send fewer events."]},
            )
        ],
    ),
    415: (
        "The body is not sent as `application/json`.",
        [
            error_example(
                "Not JSON",
                "unsupported_media_type",
                {"detail": ['Unsupported media type "text/plain" in request.']},
            )
        ],
    ),
    429: (
        "Too many requests in the current window; `Retry-After` says how many seconds to wait.",
        [
            error_example(
                "Throttled",
                "throttled",
                {
                    "detail": [
                        "Too many requests with this API key (the limit is 120/m). "
                        "Expected available in 17 seconds."
                    ]
                },
            )
        ],
    ),
}


def api_errors(
    *statuses: int,
    descriptions: dict[int, str] | None = None,
    examples: dict[int, list[OpenApiExample]] | None = None,
) -> dict[int, OpenApiResponse]:
    """The documented error responses for these statuses, with an endpoint's own words
    (`descriptions`) or examples (`examples`) replacing the general ones where given."""
    descriptions = descriptions or {}
    examples = examples or {}
    responses = {}
    for code in statuses:
        description, general_examples = _ERRORS[code]
        responses[code] = OpenApiResponse(
            response=ErrorSerializer,
            description=descriptions.get(code, description),
            examples=examples.get(code, general_examples),
        )
    return responses


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds until the rate limit's window lets requests through again.",
)
WWW_AUTHENTICATE = OpenApiParameter(
    "WWW-Authenticate",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[401],
    description='The scheme to authenticate with: `Bearer realm="api"`.',
)


def cursor_page_serializer(
    name: str, item: type[serializers.Serializer]
) -> type[serializers.Serializer]:
    """The serializer (for the schema) of one page of `item`s, as every list answers."""
    fields: dict[str, Any] = {
        "__doc__": "One page of a list, newest first; follow `next` until it is null.",
        "next": serializers.URLField(allow_null=True, help_text=NEXT_HELP),
        "previous": serializers.URLField(allow_null=True, help_text=PREVIOUS_HELP),
        "results": item(many=True),
    }
    return type(name, (serializers.Serializer,), fields)


class SessionCookieScheme(OpenApiAuthenticationExtension):
    """The site's own session cookie, described for API readers (it takes precedence over
    drf-spectacular's bare `cookieAuth`)."""

    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "cookieAuth"
    priority = 1

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The session of a user signed in to the site (/accounts/login/). "
            "Writes also send the CSRF token, from the `csrftoken` cookie, in the "
            "`X-CSRFToken` header.",
        }
