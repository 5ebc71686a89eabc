"""The order events API: `POST /api/v1/order-events` (docs/integration-guide.md), for brand API keys.

The view only speaks HTTP: it authenticates the key, rate-limits it, checks the body is a
batch and hands the events to `payouts.ingest.order_events_ingest`. Errors have the shape
of every other API error (`campaigns.api.api_exception_handler`):

    {"code": "not_authenticated", "errors": {"detail": ["Send your brand API key ..."]}}
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from redis.exceptions import RedisError
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from campaigns.api import DecimalStringField, api_exception_handler
from campaigns.api_keys import BrandApiKeyAuthentication, HasBrandApiKey, parse_rate
from campaigns.models import BrandApiKey
from connect.api_schema import RETRY_AFTER, WWW_AUTHENTICATE, api_errors, error_example
from payouts.ingest import (
    MAX_CODE_LENGTH,
    MAX_EVENTS_PER_BATCH,
    MAX_ID_LENGTH,
    BatchError,
    order_events_from_body,
    order_events_ingest,
)
from payouts.models import OrderEventType

logger = logging.getLogger(__name__)


class ApiKeyRateThrottle(BaseThrottle):
    """A fixed window per API key in Redis (`settings.ORDER_EVENTS_RATE_LIMIT`, "120/m").

    One atomic INCR per request. When Redis does not answer the request is let through:
    stored events matter more than the limit, and the database, not Redis, keeps them.
    Subclasses set their own setting and counter, and may count signed-in users too.
    """

    rate_setting = "ORDER_EVENTS_RATE_LIMIT"
    counter = "order-events-rate"
    count_users = False

    def _who(self, request: Request) -> str | None:
        if isinstance(request.auth, BrandApiKey):
            return f"key:{request.auth.pk}"
        user = getattr(request, "user", None)
        if self.count_users and user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return None

    def allow_request(self, request: Request, view: APIView) -> bool:
        who = self._who(request)
        if who is None:
            return True
        rate = getattr(settings, self.rate_setting)
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"{self.counter}:{who}:{window}"
        try:
            count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
        except ValueError:  # the window's key expired between add and incr
            count = 1
        except RedisError:
            logger.warning("Rate limit store unavailable; letting %s through", who)
            return True
        if count <= limit:
            return True
        wait = math.ceil((window + 1) * period - now)
        message = (
            _("Too many requests with this API key (the limit is %(rate)s).")
            if who.startswith("key:")
            else _("Too many requests from your account (the limit is %(rate)s).")
        )
        # DRF adds "Expected available in N seconds." (the Retry-After header says it too).
        raise exceptions.Throttled(wait=wait, detail=message % {"rate": rate})


class ReadApiRateThrottle(ApiKeyRateThrottle):
    """The read endpoints' own window (`settings.READ_API_RATE_LIMIT`), per API key or per
    signed-in user, apart from the ingest limit."""

    rate_setting = "READ_API_RATE_LIMIT"
    counter = "read-api-rate"
    count_users = True


# ---------------------------------------------------------------------------------------
# The schema of the batch. `payouts.ingest` validates each event on its own (a refused event
# does not refuse the batch), so these serializers only describe it.


@extend_schema_serializer(component_name="OrderEvent")
class OrderEventInputSerializer(serializers.Serializer[Any]):
    """One order event, as the brand's systems send it."""

    id = serializers.CharField(
        max_length=MAX_ID_LENGTH,
        help_text="Your unique id for this event. Sending it again is a duplicate: counted "
        "and ignored, however often and in whatever batch.",
    )
    type = serializers.ChoiceField(
        choices=OrderEventType.choices,
        help_text="`order.paid` gives the commissionable amount (without tax and shipping) "
        "and the attribution; `order.refunded` subtracts a refunded amount; "
        "`order.cancelled` sets the order to zero.",
    )
    order_id = serializers.CharField(max_length=MAX_ID_LENGTH, help_text="Your order id.")
    occurred_at = serializers.DateTimeField(
        help_text="When it happened: RFC 3339 with a time zone (`Z` or `+01:00`)."
    )
    amount = DecimalStringField(
        required=False,
        help_text="A decimal string with no more decimals than the currency has "
        '(`"129.99"`, JPY `"105"`); greater than zero. Required for order.paid and '
        "order.refunded; leave it out for order.cancelled.",
    )
    currency = serializers.CharField(
        max_length=3, help_text="ISO 4217 code; the campaign's currency."
    )
    code = serializers.CharField(
        max_length=MAX_CODE_LENGTH,
        required=False,
        allow_null=True,
        help_text="The creator's tracking code or discount code the customer used, in any "
        "letter case.",
    )
    click_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The `click_id` query parameter the tracking link added to your landing "
        "URL; it wins over `code`.",
    )


@extend_schema_serializer(component_name="OrderEventBatch")
class OrderEventBatchSerializer(serializers.Serializer[Any]):
    events = serializers.ListField(
        child=OrderEventInputSerializer(), min_length=1, max_length=MAX_EVENTS_PER_BATCH
    )


@extend_schema_serializer(component_name="RejectedOrderEvent")
class RejectedOrderEventSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text="The event's place in `events`, from 0.")
    id = serializers.CharField(
        source="event_id", allow_null=True, help_text="Its `id`, when it had a usable one."
    )
    error = serializers.CharField(help_text="Why it was refused, for people.")


@extend_schema_serializer(component_name="OrderEventsAnswer")
class OrderEventsAnswerSerializer(serializers.Serializer[Any]):
    accepted = serializers.IntegerField(help_text="Events stored now.")
    duplicates = serializers.IntegerField(
        help_text="Events whose id was already stored (or repeated in this batch): ignored."
    )
    rejected = RejectedOrderEventSerializer(
        many=True, help_text="Refused events; the others are stored all the same."
    )


# The batch the schema and the integration guide show; a test sends it through the ingest.
ORDER_EVENTS_EXAMPLE = {
    "events": [
        {
            "id": "evt_1001",
            "type": "order.paid",
            "order_id": "A-1001",
            "occurred_at": "2025-03-01T12:30:00Z",
            "amount": "129.99",
            "currency": "EUR",
            "code": "OLACREATES",
        },
        {
            "id": "evt_1002",
            "type": "order.paid",
            "order_id": "A-1002",
            "occurred_at": "2025-03-01T13:05:10+01:00",
            "amount": "54.00",
            "currency": "EUR",
            "click_id": "0192f1a4-7b3c-7d2e-8f00-0123456789ab",
        },
        {
            "id": "evt_1003",
            "type": "order.refunded",
            "order_id": "A-1001",
            "occurred_at": "2025-03-04T09:00:00Z",
            "amount": "20.00",
            "currency": "EUR",
        },
        {
            "id": "evt_1004",
            "type": "order.cancelled",
            "order_id": "A-1002",
            "occurred_at": "2025-03-02T08:00:00Z",
            "currency": "EUR",
        },
    ]
}
# The answer to a later batch: two new events, evt_1001 again, and a cancellation sent with
# an amount (a test sends that batch too).
ORDER_EVENTS_ANSWER_EXAMPLE = {
    "accepted": 2,
    "duplicates": 1,
    "rejected": [
        {
            "index": 3,
            "id": "evt_1007",
            "error": "order.cancelled takes no amount: leave amount out.",
        }
    ],
}


class OrderEventsApi(APIView):
    """POST a batch of 1 to 1000 order events; answers 202 with what was stored.

    Valid events are stored even when others are refused; resending an event id is a
    duplicate, counted and ignored.
    """

    authentication_classes = [BrandApiKeyAuthentication]
    permission_classes = [HasBrandApiKey]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [JSONParser]

    RejectedSerializer = RejectedOrderEventSerializer

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler

    @extend_schema(
        operation_id="order_events_send",
        tags=["order events"],
        summary="Send order events",
        description="Sends a batch of 1 to 1000 order events. Each event is checked on its "
        "own: the valid ones are stored even when others are refused, and the answer lists "
        "the refused ones by their place in the batch. Sending an event id again is a "
        "duplicate, counted and ignored, so a batch whose answer was lost can be sent again "
        "as it was. Stored events are processed within seconds: commissions then appear in "
        "`GET /api/v1/commissions` and the order in `GET /api/v1/orders/{order_id}`.\n\n"
        "Each API key may send `ORDER_EVENTS_RATE_LIMIT` requests (120 a minute unless the "
        "platform sets otherwise) and bodies of up to 4 MiB.",
        request=OrderEventBatchSerializer,
        responses={
            202: OrderEventsAnswerSerializer,
            **api_errors(
                400,
                401,
                403,
                413,
                415,
                429,
                descriptions={
                    400: "The body is not a batch: not JSON, no `events` list, or no or more "
                    "than 1000 events. Nothing is stored.",
                    403: "The key is right but its brand is suspended.",
                },
                examples={
                    400: [
                        error_example(
                            "Too many events",
                            "invalid",
                            {
                                "events": [
                                    "Send at most 1000 events per request; this one has 1001."
                                ]
                            },
                        ),
                        error_example(
                            "Not JSON",
                            "parse_error",
                            {
                                "detail": [
                                    "JSON parse error - Expecting value: line 1 column 1 (char 0)"
                                ]
                            },
                        ),
                    ],
                    403: [
                        error_example(
                            "Brand suspended",
                            "brand_suspended",
                            {
                                "detail": [
                                    "This brand is suspended: its API keys do not work until "
                                    "Connect staff lift the suspension. Contact support."
                                ]
                            },
                        )
                    ],
                },
            ),
        },
        parameters=[RETRY_AFTER, WWW_AUTHENTICATE],
        examples=[
            OpenApiExample(
                "A batch",
                value=ORDER_EVENTS_EXAMPLE,
                request_only=True,
                description="Two paid orders (one by discount code, one by click id), a "
                "partial refund and a cancellation.",
            ),
            OpenApiExample(
                "Some stored, a duplicate and a refused event",
                value=ORDER_EVENTS_ANSWER_EXAMPLE,
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        api_key = request.auth
        assert isinstance(api_key, BrandApiKey)  # HasBrandApiKey let only keys through
        max_bytes = settings.ORDER_EVENTS_MAX_BODY_BYTES
        content_length = str(request.META.get("CONTENT_LENGTH") or "0")
        if content_length.isdigit() and int(content_length) > max_bytes:
            return Response(
                {
                    "code": "too_large",
                    "errors": {
                        "detail": [
                            _("The body is larger than %(max)s bytes; send fewer events.")
                            % {"max": max_bytes}
                        ]
                    },
                },
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            events = order_events_from_body(request.data)
        except BatchError as exc:
            raise exceptions.ValidationError({exc.field or "detail": [exc.message]}) from None
        result = order_events_ingest(brand=api_key.brand, events=events)
        rejected = self.RejectedSerializer(result.rejected, many=True).data
        return Response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": rejected,
            },
            status=status.HTTP_202_ACCEPTED,
        )
