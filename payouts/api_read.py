"""The earnings read API: commissions for their brand or their creator, and one order with
everything behind it for its brand.

- `GET /api/v1/commissions`: a brand API key (`Authorization: Bearer ck_live_…`) lists its
  brand's commissions; a creator lists their own, with a personal access token
  (`Authorization: Bearer ck_pat_…`) or logged in to the site. Nobody else.
- `GET /api/v1/orders/<order_id>`: a brand API key reads one of its orders: its reduced
  state, attribution, events, commissions and their ledger history.

Money is a decimal string in the currency's minor unit ("129.99", JPY "105"), times are
RFC 3339 in UTC. Errors have the shape of every other API error
(`campaigns.api.api_exception_handler`): {"code": "invalid", "errors": {"status": [...]}}.
Another brand's order answers 404 exactly like an unknown one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import exceptions, permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from campaigns.api import INVALID_CURSOR, api_exception_handler
from campaigns.api_keys import BrandApiKeyAuthentication, HasBrandApiKey
from campaigns.models import BrandApiKey
from connect.api_schema import (
    CURSOR_HELP,
    DECIMAL_STRING_SCHEMA,
    RETRY_AFTER,
    WWW_AUTHENTICATE,
    api_errors,
    cursor_page_serializer,
    error_example,
)
from connect.models import CreatorProfile
from connect.money import from_minor
from connect.tokens import CreatorTokenAuthentication
from payouts.api import ReadApiRateThrottle
from payouts.models import AttributionVia, Commission, CommissionStatus, OrderEventType
from payouts.rules.attribution import stored_reason_message
from payouts.selectors import CommissionCursor as Cursor
from payouts.selectors import (
    OrderDetail,
    commission_keyset_page,
    commission_list,
    order_detail_get,
)

# ---------------------------------------------------------------------------------------
# Who may read


def _creator_of(request: Request) -> CreatorProfile | None:
    """The creator profile of the logged-in user, None for anyone else."""
    user = request.user
    if not user.is_authenticated:
        return None
    try:
        profile: CreatorProfile = user.creator_profile
    except CreatorProfile.DoesNotExist:
        return None
    return profile


class IsBrandKeyOrCreator(permissions.BasePermission):
    """A brand API key, or a creator: by their personal access token or logged in.

    No credentials at all is a 401 that says how to send them; a logged-in user who is not
    a creator (staff included: the list is tenant-scoped) is a 403.
    """

    def has_permission(self, request: Request, view: object) -> bool:
        if isinstance(request.auth, BrandApiKey):
            return True
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated(
                _(
                    "Send your brand API key in the header “Authorization: Bearer ck_live_…”, "
                    "or, as a creator, your token (“Authorization: Bearer ck_pat_…”) or log in."
                )
            )
        if _creator_of(request) is None:
            raise exceptions.PermissionDenied(
                _("Commissions are shown to their creator and to their brand's API keys.")
            )
        return True


class ReadApiView(APIView):
    """Base of the read views: the one error shape of the API."""

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler


# ---------------------------------------------------------------------------------------
# Fields


@extend_schema_field(DECIMAL_STRING_SCHEMA)
class MinorMoneyField(serializers.Field[Any, Any, Any, Any]):
    """Reads `<amount>` (minor units) and `currency` off the object (or off its attribute
    `of`) and renders the API's decimal string ("129.99"); null when there is no amount or
    no currency yet."""

    def __init__(self, *, amount: str, of: str | None = None, **kwargs: Any) -> None:
        self.amount = amount
        self.of = of
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        if self.of is not None:
            value = getattr(value, self.of)
        amount = getattr(value, self.amount)
        if amount is None or not value.currency:
            return None
        return from_minor(amount, value.currency)


_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?P<zone>[Zz]|[+-]\d{2}:\d{2})$"
)


@extend_schema_field(OpenApiTypes.DATETIME)
class Rfc3339Field(serializers.Field[Any, Any, Any, Any]):
    """An RFC 3339 timestamp with its time zone (2025-03-01T12:30:00Z); a time without a
    zone is refused rather than guessed."""

    default_error_messages = {
        "invalid": gettext_lazy(
            "Enter an RFC 3339 timestamp with a time zone, like 2025-03-01T12:30:00Z."
        ),
    }

    def to_internal_value(self, data: Any) -> dt.datetime:
        text = data.strip() if isinstance(data, str) else ""
        if _RFC3339.fullmatch(text) is None:
            self.fail("invalid")
        try:
            parsed = dt.datetime.fromisoformat(text.upper().replace(" ", "T"))
        except (ValueError, OverflowError):
            self.fail("invalid")
        return parsed.astimezone(dt.UTC)

    def to_representation(self, value: dt.datetime) -> str:
        text: str = value.astimezone(dt.UTC).isoformat()
        return text.replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------
# Cursor pagination by (updated_at, id)


class UpdatedCursorPagination:
    """Newest change first, by (updated_at, id), in the keyset pages of
    `commission_keyset_page`; a cursor the API did not give is a 400.

    The answer is {"next": url or null, "previous": url or null, "results": [...]}; the
    links keep the request's filters.
    """

    default_page_size = 100
    max_page_size = 1000

    def paginate(
        self, queryset: QuerySet[Commission], *, request: Request, page_size: int | None
    ) -> tuple[list[Commission], dict[str, str | None]]:
        raw_cursor = request.query_params.get("cursor")
        try:
            cursor = Cursor.decode(raw_cursor) if raw_cursor else None
        except ValueError:
            raise exceptions.ValidationError({"cursor": [INVALID_CURSOR]}) from None
        page = commission_keyset_page(queryset, cursor, size=page_size or self.default_page_size)
        url = request.build_absolute_uri()

        def link(position: Cursor | None) -> str | None:
            if position is None:
                return None
            return str(replace_query_param(url, "cursor", position.encode()))

        next_url = link(page.next)
        if page.restart:
            # Walked back past the newest row: start again from the top.
            next_url = str(remove_query_param(url, "cursor"))
        return page.commissions, {"next": next_url, "previous": link(page.previous)}


# ---------------------------------------------------------------------------------------
# Output


@extend_schema_serializer(component_name="CampaignRef")
class CampaignRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()


@extend_schema_serializer(component_name="CreatorRef")
class CreatorRefSerializer(serializers.Serializer[Any]):
    handle = serializers.CharField()


class CommissionSerializer(serializers.Serializer[Any]):
    """One commission: what one collaboration earns from one order."""

    id = serializers.IntegerField()
    order_id = serializers.CharField(source="order_ref", help_text="The brand's order id.")
    campaign = CampaignRefSerializer()
    creator = CreatorRefSerializer()
    status = serializers.ChoiceField(
        choices=CommissionStatus.choices,
        help_text="pending (in its hold), approved (payable) or void (zero).",
    )
    amount = MinorMoneyField(amount="amount_minor", help_text="The commission.")
    net_amount = MinorMoneyField(
        amount="net_amount_minor", help_text="The order's net amount it is computed on."
    )
    currency = serializers.CharField()
    payable_at = Rfc3339Field(allow_null=True)
    approved_at = Rfc3339Field(allow_null=True)
    budget_note = serializers.CharField(
        help_text="Empty, budget_limited or budget_exhausted (the campaign budget)."
    )
    created_at = Rfc3339Field()
    updated_at = Rfc3339Field()


@extend_schema_serializer(component_name="CommissionHistoryEntry")
class CommissionHistorySerializer(serializers.Serializer[Any]):
    kind = serializers.CharField(
        help_text="commission, commission_adjustment, clawback or maturation."
    )
    amount = MinorMoneyField(
        amount="amount_minor", help_text="The change to what the creator earns."
    )
    pending = MinorMoneyField(
        amount="pending_minor", help_text="The change to the creator's pending balance."
    )
    available = MinorMoneyField(
        amount="available_minor", help_text="The change to the creator's available balance."
    )
    created_at = Rfc3339Field()


@extend_schema_serializer(component_name="ReceivedOrderEvent")
class OrderEventSerializer(serializers.Serializer[Any]):
    """An order event as received, with what processing made of it."""

    id = serializers.CharField(source="event_id")
    type = serializers.ChoiceField(choices=OrderEventType.choices)
    occurred_at = Rfc3339Field()
    amount = MinorMoneyField(
        amount="amount_minor", allow_null=True, help_text="Null for order.cancelled."
    )
    currency = serializers.CharField()
    code = serializers.CharField(allow_null=True)
    click_id = serializers.UUIDField(allow_null=True)
    received_at = Rfc3339Field()
    source = serializers.CharField(help_text="api or csv (uploaded on the event log page).")
    outcome = serializers.CharField(
        allow_null=True,
        help_text="applied, awaiting_paid, unattributed, rejected or conflict; "
        "null until processed.",
    )
    outcome_reason = serializers.CharField()


@extend_schema_serializer(component_name="Attribution")
class AttributionSerializer(serializers.Serializer[Any]):
    """Who an order is attributed to, or why nobody is."""

    status = serializers.ChoiceField(
        choices=[
            ("attributed", "attributed"),
            ("unattributed", "unattributed"),
            ("awaiting", "awaiting"),
        ],
        help_text="awaiting until its order.paid is processed.",
    )
    via = serializers.ChoiceField(
        choices=AttributionVia.choices, allow_null=True, help_text="What attributed it."
    )
    collaboration_id = serializers.IntegerField(allow_null=True)
    campaign = CampaignRefSerializer(allow_null=True)
    creator = CreatorRefSerializer(allow_null=True)
    reason = serializers.CharField(
        allow_null=True, help_text="Why it is unattributed, for programs (`unknown_code`, …)."
    )
    message = serializers.CharField(allow_null=True, help_text="The same reason in words.")
    params = serializers.DictField(help_text="What the reason names (a code, a date).")


@extend_schema_serializer(component_name="OrderCommission")
class OrderCommissionSerializer(CommissionSerializer):
    """A commission of the order, with its collaboration and its ledger history."""

    collaboration_id = serializers.IntegerField()
    history = serializers.SerializerMethodField(
        help_text="Its ledger postings as the creator sees them, oldest first."
    )

    @extend_schema_field(CommissionHistorySerializer(many=True))
    def get_history(self, commission: Commission) -> list[dict[str, Any]]:
        history = self.context["history"].get(commission.pk, [])
        data: list[dict[str, Any]] = CommissionHistorySerializer(history, many=True).data
        return data


CommissionPageSerializer = cursor_page_serializer("CommissionPage", CommissionSerializer)

# The page the schema and the integration guide show.
COMMISSION_PAGE_EXAMPLE = {
    "next": "https://connect.example.com/api/v1/commissions?status=pending&cursor=WyIyMDI1LTAzLTAxVDEyOjMwOjA1LjEyMzQ1NiswMDowMCIsIDQyLCAwXQ",
    "previous": None,
    "results": [
        {
            "id": 42,
            "order_id": "A-1001",
            "campaign": {"id": 7, "title": "Spring capsule"},
            "creator": {"handle": "ola"},
            "status": "pending",
            "amount": "13.00",
            "net_amount": "129.99",
            "currency": "EUR",
            "payable_at": "2025-03-31T12:30:05Z",
            "approved_at": None,
            "budget_note": "",
            "created_at": "2025-03-01T12:30:05Z",
            "updated_at": "2025-03-01T12:30:05Z",
        }
    ],
}


# ---------------------------------------------------------------------------------------
# Views


class CommissionsApi(ReadApiView):
    """List commissions, the most recently changed first.

    A brand API key sees its brand's commissions; a creator logged in to the site sees
    their own. Filters, all optional and combined: `campaign` (id), `creator` (handle, for
    brand keys), `status` (pending, approved, void) and `updated_since` (RFC 3339, the
    instant included).

    Pages hold `page_size` commissions (100 by default, at most 1000); follow `next` until
    it is null. To keep a copy in sync, ask with `updated_since` set a few minutes before
    the start of your previous sync: a commission changes by processing, whose time is
    taken when its database transaction starts, so a short overlap catches the ones that
    committed while you read. Items carry their `id`, so seeing one twice is harmless.
    """

    authentication_classes = [
        BrandApiKeyAuthentication,
        CreatorTokenAuthentication,
        SessionAuthentication,
    ]
    permission_classes = [IsBrandKeyOrCreator]
    throttle_classes = [ReadApiRateThrottle]

    class FilterSerializer(serializers.Serializer[Any]):
        campaign = serializers.IntegerField(
            min_value=1, required=False, help_text="Only this campaign's (its id)."
        )
        creator = serializers.CharField(
            max_length=31,
            required=False,
            help_text="Only this creator's, by handle in any letter case (brand keys only).",
        )
        status = serializers.ChoiceField(
            choices=CommissionStatus.choices, required=False, help_text="Only this status."
        )
        updated_since = Rfc3339Field(
            required=False,
            help_text="Only those changed at or after this instant (RFC 3339 with a time "
            "zone), for keeping a copy in sync.",
        )
        cursor = serializers.CharField(required=False, help_text=CURSOR_HELP)
        page_size = serializers.IntegerField(
            min_value=1,
            max_value=UpdatedCursorPagination.max_page_size,
            required=False,
            help_text="Commissions a page holds: 100 unless set, at most 1000.",
        )

    OutputSerializer = CommissionSerializer

    @extend_schema(
        operation_id="commissions_list",
        tags=["commissions"],
        summary="List commissions",
        description="Commissions, the most recently changed first. A brand API key lists its "
        "brand's; a creator lists their own, with a personal access token (or signed in to "
        "the site). Filters combine.\n\n"
        "Pages by cursor on (updated_at, id): follow `next` until it is null; a page costs "
        "the same however deep it is, and commissions that change while you page are "
        "neither skipped nor repeated within a walk. To keep a copy in sync, ask with "
        "`updated_since` a few minutes before the start of your previous sync: a "
        "commission's change time is taken when processing starts its transaction, so a "
        "short overlap catches those that committed while you read; items carry their `id`, "
        "so seeing one twice is harmless.\n\n"
        "Each key or creator may make `READ_API_RATE_LIMIT` requests (600 a minute unless "
        "the platform sets otherwise).",
        parameters=[FilterSerializer, RETRY_AFTER, WWW_AUTHENTICATE],
        responses={
            200: CommissionPageSerializer,
            **api_errors(
                400,
                401,
                403,
                429,
                descriptions={
                    401: "No credentials, or a wrong, unknown or revoked key or token.",
                    403: "Signed in but not a creator, or the key's brand is suspended.",
                },
                examples={
                    400: [
                        error_example(
                            "Bad cursor",
                            "invalid",
                            {"cursor": [str(INVALID_CURSOR)]},
                        ),
                        error_example(
                            "Creator filter with a creator token",
                            "invalid",
                            {
                                "creator": [
                                    "Only brand API keys filter by creator; a creator sees "
                                    "only their own commissions."
                                ]
                            },
                        ),
                    ],
                    403: [
                        error_example(
                            "Not a creator",
                            "permission_denied",
                            {
                                "detail": [
                                    "Commissions are shown to their creator and to their "
                                    "brand's API keys."
                                ]
                            },
                        )
                    ],
                },
            ),
        },
        examples=[
            OpenApiExample(
                "A page",
                value=COMMISSION_PAGE_EXAMPLE,
                response_only=True,
                status_codes=["200"],
                description="One commission on a page of one; `next` leads to the page after it.",
            )
        ],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        handle = data["creator"].strip().removeprefix("@") if "creator" in data else None
        api_key = request.auth
        if isinstance(api_key, BrandApiKey):
            scope: dict[str, Any] = {"brand": api_key.brand}
        else:
            if handle is not None:
                raise exceptions.ValidationError(
                    {
                        "creator": [
                            _(
                                "Only brand API keys filter by creator; a creator sees only "
                                "their own commissions."
                            )
                        ]
                    }
                )
            scope = {"creator": _creator_of(request)}
        commissions = commission_list(
            **scope,
            campaign_id=data.get("campaign"),
            creator_handle=handle,
            status=data.get("status"),
            updated_since=data.get("updated_since"),
        )
        page, links = UpdatedCursorPagination().paginate(
            commissions, request=request, page_size=data.get("page_size")
        )
        return Response({**links, "results": self.OutputSerializer(page, many=True).data})


class OrderDetailApi(ReadApiView):
    """Read one order by the brand's own order id, with everything behind its earnings.

    For brand API keys only. The answer holds the order as its events reduce (amounts as
    decimal strings, `cancelled`, `awaiting_paid` while refunds wait for the order.paid,
    `over_refunded`, `conflicts`: order.paid event ids that do not count, `error`), its
    attribution (`status` attributed, unattributed or awaiting, with the reason in words
    when unattributed), every event received for it with what processing made of it, and
    its commissions, each with its ledger history as the creator sees it. `processed` is
    false while some of its events wait for processing.

    The order id goes in the path as sent in the events, percent-encoded where a URL
    needs it ("?", "#", "%"); a "/" may stay as it is. An order of another brand answers
    404 like an unknown one.
    """

    authentication_classes = [BrandApiKeyAuthentication]
    permission_classes = [HasBrandApiKey]
    throttle_classes = [ReadApiRateThrottle]

    @extend_schema_serializer(component_name="OrderDetail")
    class OutputSerializer(serializers.Serializer[Any]):
        order_id = serializers.CharField(source="order.order_id", help_text="Your order id.")
        processed = serializers.BooleanField(
            help_text="False while some of its events wait for processing."
        )
        currency = serializers.SerializerMethodField()
        paid_amount = MinorMoneyField(amount="paid_amount_minor", of="order", allow_null=True)
        refunded = MinorMoneyField(amount="refunded_minor", of="order", allow_null=True)
        net_amount = MinorMoneyField(
            amount="net_amount_minor",
            of="order",
            allow_null=True,
            help_text="max(0, paid − refunded), or 0 when cancelled.",
        )
        over_refunded = MinorMoneyField(
            amount="over_refunded_minor",
            of="order",
            allow_null=True,
            help_text="Refunds beyond the paid amount: kept, flagged, never below zero.",
        )
        commission = MinorMoneyField(
            amount="commission_minor", of="order", allow_null=True, help_text="All it earns."
        )
        cancelled = serializers.BooleanField(source="order.cancelled")
        awaiting_paid = serializers.BooleanField(
            source="order.awaiting_paid",
            help_text="A refund or cancellation waits for the order's order.paid.",
        )
        conflicts = serializers.ListField(
            child=serializers.CharField(),
            source="order.conflicts",
            help_text="Ids of order.paid events that do not count (another came earlier).",
        )
        error = serializers.SerializerMethodField()
        occurred_at = Rfc3339Field(source="order.occurred_at", allow_null=True)
        attribution = serializers.SerializerMethodField()
        events = OrderEventSerializer(many=True)
        commissions = serializers.SerializerMethodField()

        def get_currency(self, detail: OrderDetail) -> str | None:
            return detail.order.currency or None

        def get_error(self, detail: OrderDetail) -> str | None:
            return detail.order.error or None

        @extend_schema_field(AttributionSerializer)
        def get_attribution(self, detail: OrderDetail) -> dict[str, Any]:
            order = detail.order
            if order.collaboration_id is not None:
                return {
                    "status": "attributed",
                    "via": order.via or None,
                    "collaboration_id": order.collaboration_id,
                    "campaign": CampaignRefSerializer(order.campaign).data,
                    "creator": CreatorRefSerializer(order.creator).data,
                    "reason": None,
                    "message": None,
                    "params": {},
                }
            unattributed = bool(order.unattributed_reason)
            return {
                "status": "unattributed" if unattributed else "awaiting",
                "via": None,
                "collaboration_id": None,
                "campaign": None,
                "creator": None,
                "reason": order.unattributed_reason or None,
                "message": (
                    stored_reason_message(order.unattributed_reason, order.unattributed_params)
                    or order.unattributed_reason
                )
                if unattributed
                else None,
                "params": order.unattributed_params if unattributed else {},
            }

        @extend_schema_field(OrderCommissionSerializer(many=True))
        def get_commissions(self, detail: OrderDetail) -> list[dict[str, Any]]:
            serializer = OrderCommissionSerializer(
                detail.commissions, many=True, context={"history": detail.history}
            )
            data: list[dict[str, Any]] = serializer.data
            return data

    @extend_schema(
        operation_id="order_get",
        tags=["orders"],
        summary="Read an order",
        description="One order by your own order id, with everything behind its earnings: "
        "its state as its events reduce (amounts as decimal strings, `cancelled`, "
        "`awaiting_paid`, `over_refunded`, `conflicts`, `error`), its attribution (with the "
        "reason in words when unattributed), every event received for it with what "
        "processing made of it, and its commissions, each with its ledger history.\n\n"
        "Put the order id in the path as you sent it, percent-encoded where a URL needs it "
        "(`?`, `#`, `%`); a `/` may stay as it is. Another brand's order answers 404 like an "
        "unknown one. For brand API keys only.",
        parameters=[RETRY_AFTER, WWW_AUTHENTICATE],
        responses={
            200: OutputSerializer,
            **api_errors(
                401,
                403,
                404,
                429,
                descriptions={403: "The key is right but its brand is suspended."},
                examples={
                    404: [
                        error_example(
                            "Unknown order",
                            "not_found",
                            {"detail": ["No order with this id has been received."]},
                        )
                    ]
                },
            ),
        },
    )
    def get(self, request: Request, order_id: str) -> Response:
        api_key = request.auth
        assert isinstance(api_key, BrandApiKey)  # HasBrandApiKey let only keys through
        detail = order_detail_get(brand=api_key.brand, order_id=order_id)
        if detail is None:
            raise exceptions.NotFound(_("No order with this id has been received."))
        return Response(self.OutputSerializer(detail).data)
