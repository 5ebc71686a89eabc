"""The JSON API, versioned under /api/v1/ (see `campaigns.api` for the error shape)."""

from django.urls import path

from campaigns import api, api_collaborations

app_name = "api"

urlpatterns = [
    path("brands/<slug:slug>/campaigns", api.BrandCampaignsApi.as_view(), name="brand-campaigns"),
    path("campaigns/<int:campaign_id>", api.CampaignDetailApi.as_view(), name="campaign-detail"),
    path(
        "campaigns/<int:campaign_id>/publish",
        api.CampaignPublishApi.as_view(),
        name="campaign-publish",
    ),
    path(
        "campaigns/<int:campaign_id>/pause", api.CampaignPauseApi.as_view(), name="campaign-pause"
    ),
    path(
        "campaigns/<int:campaign_id>/resume",
        api.CampaignResumeApi.as_view(),
        name="campaign-resume",
    ),
    path("campaigns/<int:campaign_id>/end", api.CampaignEndApi.as_view(), name="campaign-end"),
    path(
        "campaigns/<int:campaign_id>/collaborations",
        api_collaborations.CampaignCollaborationsApi.as_view(),
        name="campaign-collaborations",
    ),
    path(
        "campaigns/<int:campaign_id>/invitations",
        api_collaborations.CampaignInvitationsApi.as_view(),
        name="campaign-invitations",
    ),
    path(
        "collaborations/<int:collaboration_id>/accept",
        api_collaborations.CollaborationAcceptApi.as_view(),
        name="collaboration-accept",
    ),
    path(
        "collaborations/<int:collaboration_id>/reject",
        api_collaborations.CollaborationRejectApi.as_view(),
        name="collaboration-reject",
    ),
    path(
        "collaborations/<int:collaboration_id>/remove",
        api_collaborations.CollaborationRemoveApi.as_view(),
        name="collaboration-remove",
    ),
]
