from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from connect import api_docs, media
from connect import views as connect_views
from payouts import webhooks as payouts_webhooks

# Under /api/ an unknown URL answers the API's JSON error, not the HTML page.
handler404 = "campaigns.api.not_found"
# A database that cannot be reached (restarting, failing over) answers 503 with Retry-After.
handler500 = "connect.errors.server_error"

urlpatterns = [
    path("", connect_views.home, name="home"),
    path("healthz", connect_views.healthz, name="healthz"),
    path("robots.txt", connect_views.robots_txt, name="robots_txt"),
    path("favicon.ico", media.favicon, name="favicon"),
    path("i18n/setlang/", connect_views.set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("connect.urls")),
    path("", include("campaigns.urls_tracking")),
    path("", include("campaigns.urls_creator")),
    path("", include("campaigns.urls_brand")),
    path("", include("payouts.urls_brand")),
    path("", include("payouts.urls_creator")),
    path("", include("dashboards.urls")),
    path("staff/", include("payouts.urls_staff")),
    path("webhooks/stripe/", payouts_webhooks.stripe_webhook, name="stripe_webhook"),
    path("api/v1/", include("campaigns.urls_api")),
    path("api/v1/", include("payouts.urls_api")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name=api_docs.SCHEMA_URL_NAME),
    path("api/v1/docs/", api_docs.ApiSwaggerView.as_view(), name="api-docs"),
    path("api/v1/redoc/", api_docs.ApiRedocView.as_view(), name="api-redoc"),
]

if settings.SERVE_MEDIA:
    # Development and tests; production serves uploads from object storage or the front
    # web server with the same headers (README, "Avatars"). Only raster images are served
    # inline; anything else is a download that cannot run as a page (connect.media).
    urlpatterns += [
        re_path(
            r"^{}(?P<path>.*)$".format(settings.MEDIA_URL.lstrip("/")),
            media.media_file,
            name="media",
        )
    ]
