"""The creator's payout pages: balances and requests, and how they get paid."""

from django.urls import path

from payouts import views_creator as views

app_name = "payouts_creator"

urlpatterns = [
    path("creator/payouts/", views.payouts_home, name="home"),
    path("creator/payouts/settings/", views.payout_settings, name="settings"),
    path("creator/payouts/settings/stripe/", views.stripe_connect, name="stripe_connect"),
    path("creator/payouts/settings/bank/", views.bank_account_save, name="bank_save"),
    path("creator/payouts/settings/method/", views.payout_rail_save, name="rail_save"),
    path("creator/payouts/stripe/return/", views.stripe_return, name="stripe_return"),
    path("creator/payouts/stripe/refresh/", views.stripe_refresh, name="stripe_refresh"),
]
