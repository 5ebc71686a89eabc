from django.urls import path

from connect import views, views_privacy, views_tokens

app_name = "connect"

urlpatterns = [
    path("onboarding/", views.onboarding, name="onboarding"),
    path("profile/edit/", views.profile_edit, name="profile_edit"),
    path("creators/", views.creator_directory, name="directory"),
    path("@<str:handle>", views.profile_public, name="profile_public"),
    path("settings/tokens/", views_tokens.tokens, name="tokens"),
    path("settings/tokens/new/", views_tokens.token_create, name="token_create"),
    path("settings/tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="token_revoke"),
    path("settings/privacy/", views_privacy.privacy, name="privacy"),
    path("settings/privacy/export/", views_privacy.data_export, name="data_export"),
    path("settings/privacy/delete/", views_privacy.account_delete, name="account_delete"),
]
