"""The payouts part of the JSON API, mounted under /api/v1/ beside `campaigns.urls_api`."""

from django.urls import path

from payouts import api

app_name = "payouts_api"

urlpatterns = [
    path("order-events", api.OrderEventsApi.as_view(), name="order-events"),
]
