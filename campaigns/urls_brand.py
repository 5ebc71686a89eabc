"""The brand side: brand signup and public pages, the team, campaigns and creator reviews."""

from django.urls import path

from campaigns import views_brand as views
from campaigns import views_integration

app_name = "brand"

urlpatterns = [
    path("brand/", views.home, name="home"),
    path("brands/new/", views.create, name="create"),
    path("brands/<slug:slug>/", views.public, name="public"),
    path("brand/switch/<slug:slug>/", views.switch, name="switch"),
    path("brand/team/", views.team, name="team"),
    path("brand/team/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("brand/invitations/<str:token>/", views.invitation, name="invitation"),
    path("brand/campaigns/", views.campaign_list, name="campaign_list"),
    path("brand/campaigns/new/", views.campaign_create_view, name="campaign_create"),
    path("brand/campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("brand/campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path(
        "brand/campaigns/<int:pk>/publish/",
        views.campaign_transition,
        {"action": "publish"},
        name="campaign_publish",
    ),
    path(
        "brand/campaigns/<int:pk>/pause/",
        views.campaign_transition,
        {"action": "pause"},
        name="campaign_pause",
    ),
    path(
        "brand/campaigns/<int:pk>/resume/",
        views.campaign_transition,
        {"action": "resume"},
        name="campaign_resume",
    ),
    path(
        "brand/campaigns/<int:pk>/end/",
        views.campaign_transition,
        {"action": "end"},
        name="campaign_end",
    ),
    path("brand/campaigns/<int:pk>/invite/", views.campaign_invite, name="campaign_invite"),
    path("brand/invite/", views.directory_invite, name="directory_invite"),
    path(
        "brand/collaborations/<int:pk>/accept/",
        views.collaboration_accept_view,
        name="collaboration_accept",
    ),
    path(
        "brand/collaborations/<int:pk>/reject/",
        views.collaboration_reject_view,
        name="collaboration_reject",
    ),
    path(
        "brand/collaborations/<int:pk>/remove/",
        views.collaboration_remove_view,
        name="collaboration_remove",
    ),
    path(
        "brand/collaborations/<int:pk>/discount-code/",
        views.collaboration_discount_code,
        name="collaboration_discount_code",
    ),
    path("brand/integration/", views_integration.integration, name="integration"),
    path(
        "brand/integration/keys/new/",
        views_integration.api_key_create,
        name="api_key_create",
    ),
    path(
        "brand/integration/keys/<int:pk>/revoke/",
        views_integration.api_key_revoke,
        name="api_key_revoke",
    ),
]
