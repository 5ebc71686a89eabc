from django.urls import path  # noqa: F401

app_name = "payouts_staff"
urlpatterns: list = []
