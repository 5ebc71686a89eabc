"""The brand API's collaborations: a campaign's creators, invitations and applications.

Same conventions as `campaigns.api` (one view per operation, membership-scoped lookups
where another brand's object is a 404, the one error shape, cursor pages).
"""

from __future__ import annotations

import abc
from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api import (
    CAMPAIGN_ID,
    MEMBER_READ_ERRORS,
    MEMBER_WRITE_ERRORS,
    SESSION_NOTE,
    BrandApiView,
    CursorQuerySerializer,
    member_campaign_or_404,
    paginated_response,
)
from campaigns.models import Collaboration, CollaborationStatus
from campaigns.selectors import campaign_collaboration_list
from campaigns.services import (
    collaboration_accept,
    collaboration_invite,
    collaboration_reject,
    collaboration_remove,
)
from connect.api_schema import cursor_page_serializer
from connect.models import User
from connect.selectors import creator_profile_get_by_handle

COLLABORATION_ID = OpenApiParameter(
    "collaboration_id", int, OpenApiParameter.PATH, description="The collaboration's id."
)


def _tracking_url(code: str | None) -> str | None:
    # The redirect lives at /r/<tracking code> (the product contract fixes the path).
    return f"{settings.SITE_URL}/r/{code}" if code else None


def _member_collaboration_or_404(user: User, collaboration_id: int) -> Collaboration:
    collaboration = (
        Collaboration.objects.select_related("campaign", "campaign__brand")
        .filter(pk=collaboration_id, brand__memberships__user=user)
        .first()
    )
    if collaboration is None:
        raise Http404
    return collaboration


def _collaboration_for_output(collaboration: Collaboration) -> Collaboration:
    return campaign_collaboration_list(collaboration.campaign).get(pk=collaboration.pk)


# ---------------------------------------------------------------------------------------
# Output


@extend_schema_serializer(component_name="CollaborationCreator")
class CreatorOutputSerializer(serializers.Serializer):
    handle = serializers.CharField()
    display_name = serializers.CharField()
    country = serializers.CharField(source="country.code", help_text="ISO 3166-1 alpha-2.")
    max_followers = serializers.IntegerField(
        help_text="The largest audience on any of the creator's platforms."
    )


@extend_schema_serializer(component_name="Collaboration")
class CollaborationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    campaign = serializers.IntegerField(source="campaign_id", help_text="The campaign's id.")
    status = serializers.ChoiceField(choices=CollaborationStatus.choices)
    creator = CreatorOutputSerializer()
    pitch = serializers.CharField(help_text="What the creator wrote when applying.")
    decision_reason = serializers.CharField(help_text="Why it was rejected or removed.")
    tracking_code = serializers.CharField(allow_null=True)
    tracking_url = serializers.SerializerMethodField(
        help_text="The creator's tracking link (`/r/<tracking code>`)."
    )
    discount_code = serializers.CharField(allow_null=True)
    clicks = serializers.SerializerMethodField(help_text="Clicks counted on the tracking link.")
    activated_at = serializers.DateTimeField(allow_null=True)
    removed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_tracking_url(self, collaboration: Collaboration) -> str | None:
        return _tracking_url(collaboration.tracking_code)

    def get_clicks(self, collaboration: Collaboration) -> int:
        return int(getattr(collaboration, "click_count", None) or 0)


CollaborationPageSerializer = cursor_page_serializer(
    "CollaborationPage", CollaborationOutputSerializer
)


# ---------------------------------------------------------------------------------------
# Collaborations


class CampaignCollaborationsApi(BrandApiView):
    """GET lists a campaign's creators with their codes and clicks (`?status=` filters)."""

    class FilterSerializer(CursorQuerySerializer):
        status = serializers.ChoiceField(
            choices=CollaborationStatus.choices, required=False, help_text="Only this status."
        )

    OutputSerializer = CollaborationOutputSerializer

    @extend_schema(
        operation_id="campaign_collaborations_list",
        tags=["collaborations"],
        summary="List a campaign's creators",
        description="Every collaboration of the campaign (applications, invitations, active "
        "and removed creators), newest first, with the creator, their tracking link, "
        "discount code and clicks. Pages by cursor." + SESSION_NOTE,
        parameters=[CAMPAIGN_ID, FilterSerializer],
        responses={200: CollaborationPageSerializer, **MEMBER_READ_ERRORS},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = member_campaign_or_404(request.user, campaign_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        collaborations = campaign_collaboration_list(
            campaign, status=filters.validated_data.get("status")
        )
        return paginated_response(
            queryset=collaborations,
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )


class CampaignInvitationsApi(BrandApiView):
    """POST invites a creator (by handle) to the campaign; inviting again changes nothing."""

    @extend_schema_serializer(component_name="Invitation")
    class InputSerializer(serializers.Serializer):
        creator = serializers.CharField(max_length=31, help_text="The creator's handle.")

    OutputSerializer = CollaborationOutputSerializer

    @extend_schema(
        operation_id="campaign_invite",
        tags=["collaborations"],
        summary="Invite a creator",
        description="Invites the creator with this handle (an `@` in front is fine); the "
        "creator is emailed and answers in the browser. Inviting again changes nothing; a "
        "creator already in the campaign is a 400." + SESSION_NOTE,
        parameters=[CAMPAIGN_ID],
        request=InputSerializer,
        responses={201: OutputSerializer, **MEMBER_WRITE_ERRORS},
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        campaign = member_campaign_or_404(request.user, campaign_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        handle = serializer.validated_data["creator"].strip().removeprefix("@")
        creator = creator_profile_get_by_handle(handle)
        if creator is None:
            raise exceptions.ValidationError({"creator": [_("No creator has this handle.")]})
        collaboration = collaboration_invite(
            campaign=campaign,
            creator=creator,
            actor=request.user,
        )
        output = self.OutputSerializer(_collaboration_for_output(collaboration))
        return Response(output.data, status=status.HTTP_201_CREATED)


class _CollaborationActionApi(BrandApiView, metaclass=abc.ABCMeta):
    """A POST that moves one of the member's collaborations through a service: find it
    (404 outside the member's brands), validate `InputSerializer`, `act`, answer the
    collaboration as it is now."""

    InputSerializer: type[serializers.Serializer]
    OutputSerializer = CollaborationOutputSerializer

    @abc.abstractmethod
    def act(self, collaboration: Collaboration, data: dict[str, Any], actor: User) -> Collaboration:
        """Call the service this endpoint stands for, with the validated input."""

    def respond(self, request: Request, collaboration_id: int) -> Response:
        collaboration = _member_collaboration_or_404(request.user, collaboration_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        collaboration = self.act(collaboration, serializer.validated_data, request.user)
        return Response(self.OutputSerializer(_collaboration_for_output(collaboration)).data)


class CollaborationAcceptApi(_CollaborationActionApi):
    """POST accepts an application; the creator gets their link and a discount code (the
    one sent, or one made from their handle)."""

    @extend_schema_serializer(component_name="CollaborationAccept")
    class InputSerializer(serializers.Serializer):
        discount_code = serializers.CharField(
            max_length=32,
            required=False,
            allow_blank=True,
            allow_null=True,
            help_text="The creator's discount code; left out, one is made from their handle.",
        )

    OutputSerializer = CollaborationOutputSerializer

    @extend_schema(
        operation_id="collaboration_accept",
        tags=["collaborations"],
        summary="Accept an application",
        description="The creator becomes active with a tracking link and a discount code "
        "(unique in the brand, any letter case) and is emailed." + SESSION_NOTE,
        parameters=[COLLABORATION_ID],
        request=InputSerializer,
        responses={200: OutputSerializer, **MEMBER_WRITE_ERRORS},
    )
    def post(self, request: Request, collaboration_id: int) -> Response:
        return self.respond(request, collaboration_id)

    def act(self, collaboration: Collaboration, data: dict[str, Any], actor: User) -> Collaboration:
        return collaboration_accept(
            collaboration=collaboration,
            actor=actor,
            discount_code=data.get("discount_code") or None,
        )


class CollaborationRejectApi(_CollaborationActionApi):
    """POST turns an application down; the reason is emailed to the creator."""

    @extend_schema_serializer(component_name="CollaborationReject")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=1000, help_text="Emailed to the creator.")

    OutputSerializer = CollaborationOutputSerializer

    @extend_schema(
        operation_id="collaboration_reject",
        tags=["collaborations"],
        summary="Reject an application",
        description="Turns an application down with a reason, which the creator is emailed."
        + SESSION_NOTE,
        parameters=[COLLABORATION_ID],
        request=InputSerializer,
        responses={200: OutputSerializer, **MEMBER_WRITE_ERRORS},
    )
    def post(self, request: Request, collaboration_id: int) -> Response:
        return self.respond(request, collaboration_id)

    def act(self, collaboration: Collaboration, data: dict[str, Any], actor: User) -> Collaboration:
        return collaboration_reject(collaboration=collaboration, actor=actor, reason=data["reason"])


class CollaborationRemoveApi(_CollaborationActionApi):
    """POST removes an active creator: their link and code attribute nothing from now."""

    @extend_schema_serializer(component_name="CollaborationRemove")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            max_length=1000, required=False, allow_blank=True, help_text="Emailed to the creator."
        )

    OutputSerializer = CollaborationOutputSerializer

    @extend_schema(
        operation_id="collaboration_remove",
        tags=["collaborations"],
        summary="Remove a creator",
        description="Removes an active creator from the campaign: from now their link and "
        "code attribute no new orders; what they earned stays." + SESSION_NOTE,
        parameters=[COLLABORATION_ID],
        request=InputSerializer,
        responses={200: OutputSerializer, **MEMBER_WRITE_ERRORS},
    )
    def post(self, request: Request, collaboration_id: int) -> Response:
        return self.respond(request, collaboration_id)

    def act(self, collaboration: Collaboration, data: dict[str, Any], actor: User) -> Collaboration:
        return collaboration_remove(
            collaboration=collaboration, actor=actor, reason=data.get("reason", "")
        )
