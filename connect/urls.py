from django.urls import path

from connect import views

app_name = "connect"

urlpatterns = [
    path("onboarding/", views.onboarding, name="onboarding"),
    path("profile/edit/", views.profile_edit, name="profile_edit"),
    path("creators/", views.creator_directory, name="directory"),
    path("@<str:handle>", views.profile_public, name="profile_public"),
]
