"""The brand API under /api/v1/: campaigns and their lifecycle, and what every view of
the API shares (the error shape, cursor pages, decimal fields). Collaborations are in
`campaigns.api_collaborations`.

One view per operation (an URL that answers two methods holds two operations), each with
nested input and output serializers. Views only translate HTTP: they parse with the input
serializer, call a service or a selector, and render with the output serializer. Every
write goes through `campaigns.services`.

Tenancy: an object is looked up through the user's brand memberships, so a campaign or a
collaboration of a brand the user does not belong to answers 404, exactly like one that
does not exist, and never says that it does.

Errors have one shape everywhere, whatever raised them (a serializer, a service's
`ValidationError` or `PermissionDenied`, a missing object, a missing login):

    {"code": "invalid", "errors": {"terms.commission_percent": ["Enter a percent ..."]}}

`errors` maps a field path (nested fields joined by dots) to its messages; messages that
belong to no field are under `detail`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.defaults import page_not_found
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from campaigns.models import (
    Brand,
    Campaign,
    CampaignStatus,
    CampaignTerms,
    CommissionType,
    JoinMode,
)
from campaigns.selectors import (
    brand_campaign_list,
    brands_for_user,
)
from campaigns.services import (
    CampaignInput,
    TermsInput,
    campaign_create,
    campaign_end,
    campaign_pause,
    campaign_publish,
    campaign_resume,
    campaign_update,
)
from campaigns.services.campaigns import campaign_current_terms
from connect.api_schema import (
    CURSOR_HELP,
    DECIMAL_STRING_SCHEMA,
    api_errors,
    cursor_page_serializer,
    error_example,
)
from connect.models import Niche, User
from connect.money import MoneyError, currency_exponent, from_minor, to_minor

# The key for messages that belong to no field, in every error response.
DETAIL_KEY = "detail"
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")


# ---------------------------------------------------------------------------------------
# Errors


def _flatten_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into {"a.b.0": ["message"]}."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            name = str(key)
            if name in {api_settings.NON_FIELD_ERRORS_KEY, "__all__", DETAIL_KEY}:
                path = prefix or DETAIL_KEY
            else:
                path = f"{prefix}.{name}" if prefix else name
            for inner_path, messages in _flatten_errors(value, path).items():
                flat.setdefault(inner_path, []).extend(messages)
        return flat
    if isinstance(data, list):
        if all(not isinstance(item, dict | list) for item in data):
            return {prefix or DETAIL_KEY: [str(item) for item in data]}
        flat = {}
        for index, item in enumerate(data):
            if not item:
                continue
            path = f"{prefix}.{index}" if prefix else str(index)
            for inner_path, messages in _flatten_errors(item, path).items():
                flat.setdefault(inner_path, []).extend(messages)
        return flat
    return {prefix or DETAIL_KEY: [str(data)]}


def _from_django_validation_error(
    exc: DjangoValidationError, field_names: dict[str, str]
) -> exceptions.ValidationError:
    """A service's ValidationError, with its model field names mapped to the API's."""
    if hasattr(exc, "error_dict"):
        detail: dict[str, list[str]] = {}
        for name, messages in exc.message_dict.items():
            key = DETAIL_KEY if name == "__all__" else field_names.get(name, name)
            detail.setdefault(key, []).extend(messages)
        return exceptions.ValidationError(detail)
    return exceptions.ValidationError({DETAIL_KEY: exc.messages})


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error as {"code": ..., "errors": {field: [messages]}}."""
    if isinstance(exc, DjangoValidationError):
        view = context.get("view")
        exc = _from_django_validation_error(exc, getattr(view, "service_error_fields", {}))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = exc.default_code if isinstance(exc, exceptions.APIException) else "error"
    response.data = {"code": code, "errors": _flatten_errors(response.data)}
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 (`handler404`): under /api/ the API's error shape in JSON, for an URL
    no route matches (`/api/v1/campaigns/abc`) as for a missing object; elsewhere the page."""
    if request.path.startswith("/api/"):
        detail = str(exceptions.NotFound.default_detail)
        return JsonResponse({"code": "not_found", "errors": {DETAIL_KEY: [detail]}}, status=404)
    return page_not_found(request, exception)


class BrandApiView(APIView):
    """Base of the brand's campaign API views: a signed-in brand member (session cookie),
    JSON bodies (the campaign's terms nest) and the one error shape."""

    parser_classes = [JSONParser]
    # Model field names in service errors → the API's field paths.
    service_error_fields: ClassVar[dict[str, str]] = {}

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler


# ---------------------------------------------------------------------------------------
# Pagination


INVALID_CURSOR = gettext_lazy("This cursor is not one the API gave; start again without it.")


class NewestFirstCursorPagination(CursorPagination):
    """Newest first; a cursor stays right while rows are added, unlike page numbers.

    A cursor the API did not give is a 400 on `cursor`, as on every list of the API.
    """

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": [INVALID_CURSOR]}) from None


class CursorQuerySerializer(serializers.Serializer):
    """The query parameters of a cursor-paginated list; views add their filters."""

    cursor = serializers.CharField(required=False, help_text=CURSOR_HELP)
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=NewestFirstCursorPagination.max_page_size,
        help_text="Items a page holds: 50 unless set, at most 200.",
    )


def paginated_response(
    *,
    queryset: QuerySet[Any],
    serializer_class: type[serializers.Serializer],
    request: Request,
    view: APIView,
) -> Response:
    paginator = NewestFirstCursorPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


# ---------------------------------------------------------------------------------------
# Fields


@extend_schema_field(DECIMAL_STRING_SCHEMA)
class DecimalStringField(serializers.CharField):
    """A decimal number sent as a string ("12.50"); JSON numbers are refused, so that no
    float ever stands for money or a rate."""

    default_error_messages = {
        "not_a_string": gettext_lazy('Send this number as a decimal string, like "12.50".'),
        "invalid": gettext_lazy('Enter a decimal number, like "12.50".'),
    }
    pattern = re.compile(r"^-?\d{1,15}(?:\.\d{1,15})?$")

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        value = data.strip()
        if not self.pattern.fullmatch(value):
            self.fail("invalid")
        return value


class PercentField(DecimalStringField):
    """A commission rate like "12.50"; the services check the range (0 < p ≤ 100)."""

    default_error_messages = {
        "max_decimals": gettext_lazy("Enter a percent with at most two decimals."),
    }

    def to_internal_value(self, data: Any) -> Decimal:  # type: ignore[override]
        value = Decimal(super().to_internal_value(data))
        if value != value.quantize(Decimal("0.01")):
            self.fail("max_decimals")
        return value

    def to_representation(self, value: Any) -> str:
        return str(Decimal(value).quantize(Decimal("0.01")))


@extend_schema_field(DECIMAL_STRING_SCHEMA)
class MoneyField(serializers.Field):
    """Reads `<amount>` (minor units) and `currency` off the object and renders the API's
    decimal string ("129.99"), or null."""

    def __init__(self, *, amount: str, **kwargs: Any) -> None:
        self.amount = amount
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        amount = getattr(value, self.amount)
        return None if amount is None else from_minor(amount, value.currency)


@extend_schema_field({"type": "string", "pattern": "^[A-Z]{2}$", "example": "PL"})
class CountryCodeField(CountryField):
    """An ISO 3166-1 alpha-2 country code ("PL")."""


def _minor(amount: str | None, currency: str, field: str) -> int | None:
    """Parse an API decimal string into minor units of the campaign's currency."""
    if amount is None:
        return None
    try:
        return to_minor(amount, currency)
    except MoneyError as exc:
        raise exceptions.ValidationError(
            {
                field: [
                    _(
                        "Enter an amount like 12.50, with at most %(places)s decimals for %(currency)s."
                    )
                    % {"places": currency_exponent(currency), "currency": currency}
                ]
            }
        ) from exc


# ---------------------------------------------------------------------------------------
# Lookups scoped by membership: another brand's object is a 404, never a 403.


def _member_brand_or_404(user: User, slug: str) -> Brand:
    brand = brands_for_user(user).filter(slug=slug).first()
    if brand is None:
        raise Http404
    return brand


def member_campaign_or_404(user: User, campaign_id: int) -> Campaign:
    campaign = (
        Campaign.objects.select_related("brand")
        .filter(pk=campaign_id, brand__memberships__user=user)
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


def _campaign_for_output(campaign: Campaign) -> Campaign:
    """The campaign with its terms in force and collaboration counts, as listed."""
    return brand_campaign_list(campaign.brand).select_related("brand").get(pk=campaign.pk)


# ---------------------------------------------------------------------------------------
# Campaign input: the same serializer creates (all required fields) and patches (partial).

CAMPAIGN_FIELDS = (
    "title",
    "brief",
    "landing_url",
    "niche",
    "target_countries",
    "currency",
    "join_mode",
    "min_followers",
    "eligible_countries",
    "starts_on",
    "ends_on",
)

# The services name model fields; the API names what it takes and returns.
CAMPAIGN_ERROR_FIELDS = {
    "budget_minor": "budget",
    "commission_type": "terms.commission_type",
    "commission_percent": "terms.commission_percent",
    "commission_fixed_minor": "terms.commission_fixed",
    "hold_days": "terms.hold_days",
    "attribution_window_days": "terms.attribution_window_days",
}


@extend_schema_serializer(component_name="Terms")
class TermsInputSerializer(serializers.Serializer):
    commission_type = serializers.ChoiceField(choices=CommissionType.choices)
    commission_percent = PercentField(required=False, allow_null=True)
    commission_fixed = DecimalStringField(required=False, allow_null=True)
    hold_days = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    attribution_window_days = serializers.IntegerField(required=False, min_value=0, max_value=32767)


class NicheField(serializers.SlugRelatedField):
    """A niche by its slug. Text that no slug can be is refused before any query: a NUL
    character would otherwise reach PostgreSQL, which refuses it in a query (a 500)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", queryset=Niche.objects.all(), **kwargs)

    def to_internal_value(self, data: Any) -> Niche:
        if not isinstance(data, str) or not SLUG_RE.fullmatch(data):
            self.fail("invalid")
        niche: Niche = super().to_internal_value(data)
        return niche


@extend_schema_serializer(component_name="Campaign")
class CampaignInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=140)
    brief = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    landing_url = serializers.URLField(max_length=500)
    niche = NicheField()
    target_countries = serializers.ListField(child=CountryCodeField(), required=False)
    currency = serializers.ChoiceField(choices=settings.CAMPAIGN_CURRENCIES)
    join_mode = serializers.ChoiceField(choices=JoinMode.choices, required=False)
    min_followers = serializers.IntegerField(min_value=0, required=False)
    eligible_countries = serializers.ListField(child=CountryCodeField(), required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    budget = DecimalStringField(required=False, allow_null=True)
    terms = TermsInputSerializer()


@dataclass(frozen=True)
class _Current:
    """What a patch starts from: the campaign's fields and its terms in force."""

    campaign: Campaign | None
    terms: CampaignTerms | None


def _service_inputs(data: dict[str, Any], current: _Current) -> tuple[CampaignInput, TermsInput]:
    """Merge validated input over the current values (nothing, on create) into the complete
    inputs the services take, converting money in the campaign's currency."""
    campaign, terms = current.campaign, current.terms
    values: dict[str, Any] = {
        "brief": "",
        "target_countries": [],
        "join_mode": JoinMode.OPEN,
        "min_followers": 0,
        "eligible_countries": [],
        "starts_on": None,
        "ends_on": None,
    }
    if campaign is not None:
        values.update({name: getattr(campaign, name) for name in CAMPAIGN_FIELDS})
    values.update({name: data[name] for name in CAMPAIGN_FIELDS if name in data})
    currency = values["currency"]

    if "budget" in data:
        budget_minor = _minor(data["budget"], currency, "budget")
    elif campaign is not None and campaign.budget_minor is not None:
        # Re-read the kept amount in the (possibly new, still draft) currency.
        budget_minor = _minor(
            from_minor(campaign.budget_minor, campaign.currency), currency, "budget"
        )
    else:
        budget_minor = None

    patch = data.get("terms", {})
    commission_type = patch.get("commission_type", terms.commission_type if terms else None)
    # Changing the type drops the other type's value unless the patch sends it.
    same_type = terms is not None and commission_type == terms.commission_type
    if "commission_percent" in patch:
        percent = patch["commission_percent"]
    else:
        percent = terms.commission_percent if same_type and terms else None
    if "commission_fixed" in patch:
        fixed_minor = _minor(patch["commission_fixed"], currency, "terms.commission_fixed")
    elif same_type and terms and terms.commission_fixed_minor is not None and campaign:
        fixed_minor = _minor(
            from_minor(terms.commission_fixed_minor, campaign.currency),
            currency,
            "terms.commission_fixed",
        )
    else:
        fixed_minor = None
    terms_input = TermsInput(
        commission_type=commission_type or "",
        commission_percent=percent,
        commission_fixed_minor=fixed_minor,
        hold_days=patch.get("hold_days", terms.hold_days if terms else 30),
        attribution_window_days=patch.get(
            "attribution_window_days", terms.attribution_window_days if terms else 30
        ),
    )
    return CampaignInput(**values, budget_minor=budget_minor), terms_input


# ---------------------------------------------------------------------------------------
# Output


@extend_schema_serializer(component_name="Terms")
class TermsOutputSerializer(serializers.Serializer):
    """The terms in force now, read off `with_current_terms`' annotations."""

    commission_type = serializers.ChoiceField(
        choices=CommissionType.choices, source="current_commission_type"
    )
    commission_percent = PercentField(
        source="current_commission_percent",
        allow_null=True,
        help_text="The percent of the order's net amount, for a percent commission.",
    )
    commission_fixed = serializers.SerializerMethodField(
        help_text="The amount per order, for a fixed commission."
    )
    hold_days = serializers.IntegerField(
        source="current_hold_days", help_text="Days a commission waits before it is payable."
    )
    attribution_window_days = serializers.IntegerField(
        source="current_attribution_window_days",
        help_text="Days after a click within which an order is attributed to it.",
    )

    @extend_schema_field({**DECIMAL_STRING_SCHEMA, "nullable": True})
    def get_commission_fixed(self, campaign: Campaign) -> str | None:
        amount = campaign.current_commission_fixed_minor  # type: ignore[attr-defined]
        return None if amount is None else from_minor(amount, campaign.currency)


@extend_schema_serializer(component_name="Campaign")
class CampaignOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    brand = serializers.CharField(source="brand.slug", help_text="The brand's slug.")
    title = serializers.CharField()
    brief = serializers.CharField(help_text="Markdown.")
    landing_url = serializers.URLField()
    niche = serializers.CharField(source="niche.slug", help_text="The niche's slug.")
    target_countries = serializers.ListField(child=CountryCodeField())
    currency = serializers.CharField(help_text="ISO 4217 code; fixed once published.")
    join_mode = serializers.ChoiceField(choices=JoinMode.choices)
    min_followers = serializers.IntegerField()
    eligible_countries = serializers.ListField(child=CountryCodeField())
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    budget = MoneyField(
        amount="budget_minor",
        allow_null=True,
        help_text="The commission budget; null for none.",
    )
    status = serializers.ChoiceField(choices=CampaignStatus.choices)
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    terms = TermsOutputSerializer(source="*")
    active_collaborations = serializers.IntegerField(source="active_count")
    pending_applications = serializers.IntegerField(source="pending_count")


CampaignPageSerializer = cursor_page_serializer("CampaignPage", CampaignOutputSerializer)
# ---------------------------------------------------------------------------------------
# Campaigns

SESSION_NOTE = (
    "\n\nFor members of the brand, signed in to the site (session cookie; writes send the "
    "CSRF token in `X-CSRFToken`). Another brand's objects answer 404 like unknown ones."
)
# Session views answer 403, not 401, without a login: a cookie has no WWW-Authenticate.
MEMBER_FORBIDDEN = {
    403: "Not signed in, or the CSRF token is missing on a write, or the signed-in user "
    "may not do this."
}
MEMBER_READ_ERRORS = api_errors(400, 403, 404, descriptions=MEMBER_FORBIDDEN)
MEMBER_WRITE_ERRORS = api_errors(400, 403, 404, 415, descriptions=MEMBER_FORBIDDEN)
_PUBLISH_ERRORS = api_errors(
    400,
    403,
    404,
    415,
    descriptions={403: MEMBER_FORBIDDEN[403] + " Only a verified, unsuspended brand publishes."},
    examples={
        403: [
            error_example(
                "Brand not verified",
                "permission_denied",
                {"detail": ["Your brand must be verified before it can publish campaigns."]},
            )
        ]
    },
)
SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The brand's slug.")
CAMPAIGN_ID = OpenApiParameter(
    "campaign_id", int, OpenApiParameter.PATH, description="The campaign's id."
)


class BrandCampaignsApi(BrandApiView):
    """GET lists a brand's campaigns (newest first); POST drafts a new one with its terms."""

    service_error_fields = CAMPAIGN_ERROR_FIELDS

    class FilterSerializer(CursorQuerySerializer):
        status = serializers.ChoiceField(
            choices=CampaignStatus.choices, required=False, help_text="Only this status."
        )

    InputSerializer = CampaignInputSerializer
    OutputSerializer = CampaignOutputSerializer

    @extend_schema(
        operation_id="brand_campaigns_list",
        tags=["campaigns"],
        summary="List a brand's campaigns",
        description="Every campaign of the brand, newest first, with its terms in force and "
        "its counts of active creators and pending applications. Pages by cursor." + SESSION_NOTE,
        parameters=[SLUG, FilterSerializer],
        responses={200: CampaignPageSerializer, **MEMBER_READ_ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        brand = _member_brand_or_404(request.user, slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        campaigns = brand_campaign_list(brand).select_related("brand")
        if "status" in filters.validated_data:
            campaigns = campaigns.filter(status=filters.validated_data["status"])
        return paginated_response(
            queryset=campaigns,
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        operation_id="brand_campaigns_create",
        tags=["campaigns"],
        summary="Draft a campaign",
        description="Creates a draft campaign with its first terms. Money is a decimal string "
        "in the campaign's currency (`budget`, `terms.commission_fixed`); a percent has at "
        "most two decimals." + SESSION_NOTE,
        parameters=[SLUG],
        request=InputSerializer,
        responses={201: OutputSerializer, **MEMBER_WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        brand = _member_brand_or_404(request.user, slug)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, terms = _service_inputs(serializer.validated_data, _Current(None, None))
        campaign = campaign_create(
            brand=brand,
            actor=request.user,
            data=data,
            terms=terms,
        )
        output = self.OutputSerializer(_campaign_for_output(campaign))
        return Response(output.data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(BrandApiView):
    """GET reads one campaign; PATCH changes the fields it sends and keeps the rest.

    Changed terms become a new version in force from now (the service emails active
    creators); the currency is fixed once the campaign is published.
    """

    service_error_fields = CAMPAIGN_ERROR_FIELDS

    InputSerializer = CampaignInputSerializer
    OutputSerializer = CampaignOutputSerializer

    @extend_schema(
        operation_id="campaign_get",
        tags=["campaigns"],
        summary="Read a campaign",
        description="One campaign with its terms in force." + SESSION_NOTE,
        parameters=[CAMPAIGN_ID],
        responses={200: OutputSerializer, **api_errors(403, 404, descriptions=MEMBER_FORBIDDEN)},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = member_campaign_or_404(request.user, campaign_id)
        return Response(self.OutputSerializer(_campaign_for_output(campaign)).data)

    @extend_schema(
        operation_id="campaign_update",
        tags=["campaigns"],
        summary="Change a campaign",
        description="Changes the fields sent and keeps the rest. Changed terms become a new "
        "version in force from now, and the campaign's active creators are emailed; the "
        "currency is fixed once the campaign is published; an ended campaign does not "
        "change." + SESSION_NOTE,
        parameters=[CAMPAIGN_ID],
        request=InputSerializer,
        responses={200: OutputSerializer, **MEMBER_WRITE_ERRORS},
    )
    def patch(self, request: Request, campaign_id: int) -> Response:
        campaign = member_campaign_or_404(request.user, campaign_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data, terms = _service_inputs(
            serializer.validated_data, _Current(campaign, campaign_current_terms(campaign))
        )
        campaign = campaign_update(
            campaign=campaign,
            actor=request.user,
            data=data,
            terms=terms,
        )
        return Response(self.OutputSerializer(_campaign_for_output(campaign)).data)


class _CampaignTransitionApi(BrandApiView):
    """POST moves the campaign along its lifecycle; repeating it changes nothing."""

    OutputSerializer = CampaignOutputSerializer
    transition: ClassVar[Callable[..., Campaign]]

    def post(self, request: Request, campaign_id: int) -> Response:
        campaign = member_campaign_or_404(request.user, campaign_id)
        campaign = type(self).transition(campaign=campaign, actor=request.user)
        return Response(self.OutputSerializer(_campaign_for_output(campaign)).data)


def _transition_schema(
    name: str, summary: str, description: str, errors: dict[int, OpenApiResponse] | None = None
) -> Any:
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"campaign_{name}",
            tags=["campaigns"],
            summary=summary,
            description=description
            + " Asking again for the state the campaign is in changes nothing; a move its "
            "lifecycle (draft → active ⇄ paused → ended) does not allow is a 400." + SESSION_NOTE,
            parameters=[CAMPAIGN_ID],
            request=None,
            responses={200: CampaignOutputSerializer, **(errors or MEMBER_WRITE_ERRORS)},
        )
    )


@_transition_schema(
    "publish",
    "Publish a campaign",
    "Draft → active: creators can find and join it. The brand must be verified and not "
    "suspended (403 otherwise).",
    _PUBLISH_ERRORS,
)
class CampaignPublishApi(_CampaignTransitionApi):
    """Draft → active. The brand must be verified and not suspended."""

    transition = staticmethod(campaign_publish)


@_transition_schema(
    "pause",
    "Pause a campaign",
    "Active → paused: creators cannot join, and links stop attributing new orders.",
)
class CampaignPauseApi(_CampaignTransitionApi):
    """Active → paused: creators cannot join and links stop attributing new orders."""

    transition = staticmethod(campaign_pause)


@_transition_schema("resume", "Resume a campaign", "Paused → active.")
class CampaignResumeApi(_CampaignTransitionApi):
    """Paused → active."""

    transition = staticmethod(campaign_resume)


@_transition_schema("end", "End a campaign", "Active or paused → ended, for good.")
class CampaignEndApi(_CampaignTransitionApi):
    """Active or paused → ended, for good."""

    transition = staticmethod(campaign_end)
