"""The order events API: `POST /api/v1/order-events` (PRODUCT.md §4), for brand API keys.

The view only speaks HTTP: it authenticates the key, rate-limits it, checks the body is a
batch and hands the events to `payouts.ingest.order_events_ingest`. Errors have the shape
of every other API error (`campaigns.api.api_exception_handler`):

    {"code": "not_authenticated", "errors": {"detail": ["Send your brand API key ..."]}}
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from campaigns.api import api_exception_handler
from campaigns.api_keys import BrandApiKeyAuthentication, HasBrandApiKey
from campaigns.models import BrandApiKey
from payouts.ingest import BatchError, order_events_from_body, order_events_ingest

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "120/m" → (120 requests, 60 seconds)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([smh])\s*", rate)
    if match is None:
        raise ValueError(f"A rate limit reads like 120/m, not {rate!r}.")
    return int(match.group(1)), _PERIODS[match.group(2)]


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


class OrderEventsApi(APIView):
    """POST a batch of 1 to 1000 order events; answers 202 with what was stored.

    Valid events are stored even when others are refused; resending an event id is a
    duplicate, counted and ignored.
    """

    authentication_classes = [BrandApiKeyAuthentication]
    permission_classes = [HasBrandApiKey]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [JSONParser]

    class RejectedSerializer(serializers.Serializer[Any]):
        index = serializers.IntegerField()
        id = serializers.CharField(source="event_id", allow_null=True)
        error = serializers.CharField()

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler

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
