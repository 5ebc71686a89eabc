"""The brand's order event pages: the event log, one order, and the CSV upload."""

from django.urls import path

from payouts import views_brand as views

app_name = "brand_events"

urlpatterns = [
    path("brand/events/", views.event_log, name="log"),
    path("brand/events/upload/", views.csv_upload, name="upload"),
    path("brand/events/upload/template.csv", views.csv_template, name="upload_template"),
    path("brand/events/upload/<int:pk>/", views.csv_upload_detail, name="upload_detail"),
    path(
        "brand/events/upload/<int:pk>/status.json",
        views.csv_upload_status,
        name="upload_status",
    ),
    path(
        "brand/events/upload/<int:pk>/confirm/",
        views.csv_upload_confirm_view,
        name="upload_confirm",
    ),
    path(
        "brand/events/upload/<int:pk>/discard/",
        views.csv_upload_discard_view,
        name="upload_discard",
    ),
    path("brand/orders/<path:order_id>/", views.order_detail, name="order"),
]
