"""The creator side: the campaign marketplace and the creator's collaborations."""

from django.urls import path

from campaigns import views_creator as views

app_name = "marketplace"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/join/", views.campaign_join, name="campaign_join"),
    path("collaborations/", views.collaboration_list, name="collaboration_list"),
    path(
        "collaborations/<int:collaboration_id>/",
        views.collaboration_detail,
        name="collaboration_detail",
    ),
    path(
        "collaborations/<int:collaboration_id>/qr.svg",
        views.collaboration_qr,
        name="collaboration_qr",
    ),
    path(
        "collaborations/<int:collaboration_id>/qr.png",
        views.collaboration_qr_png,
        name="collaboration_qr_png",
    ),
    path(
        "collaborations/<int:collaboration_id>/accept/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "collaborations/<int:collaboration_id>/decline/",
        views.invitation_decline,
        name="invitation_decline",
    ),
]
