"""The payouts part of the JSON API, mounted under /api/v1/ beside `campaigns.urls_api`."""

from django.urls import path

from payouts import api, api_read

app_name = "payouts_api"

urlpatterns = [
    path("order-events", api.OrderEventsApi.as_view(), name="order-events"),
    path("commissions", api_read.CommissionsApi.as_view(), name="commissions"),
    # Brands choose their order ids: any characters, "/" included.
    path("orders/<path:order_id>", api_read.OrderDetailApi.as_view(), name="order-detail"),
]
