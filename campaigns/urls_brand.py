from django.urls import path

app_name = "brand"

urlpatterns: list = []
