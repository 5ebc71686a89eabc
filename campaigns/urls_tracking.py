"""The tracking link every creator shares: /r/<tracking code>."""

from django.urls import path

from campaigns.tracking import tracking_redirect

app_name = "tracking"

urlpatterns = [
    path("r/<str:code>", tracking_redirect, name="redirect"),
]
