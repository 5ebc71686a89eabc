"""The dashboards: the creator's earnings, the brand's dashboard and the staff overview."""

from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("creator/earnings/", views.creator_dashboard, name="creator"),
    path(
        "creator/earnings/commissions/",
        views.creator_commissions,
        name="creator_commissions",
    ),
    path(
        "creator/earnings/commissions.csv",
        views.creator_commissions_csv,
        name="creator_commissions_csv",
    ),
    path("brand/dashboard/", views.brand_dashboard, name="brand"),
    path("brand/dashboard.csv", views.brand_dashboard_csv, name="brand_csv"),
    path("staff/", views.staff_dashboard, name="staff"),
]
