"""Staff pages for payouts and reconciliation (mounted under /staff/)."""

from django.urls import path

from connect.views_audit import audit_log
from payouts import views_staff as views

app_name = "payouts_staff"

urlpatterns = [
    path("payouts/", views.payout_queue_view, name="queue"),
    path("payouts/decide/", views.payout_bulk_decide, name="bulk"),
    path("payouts/bank/", views.bank_payouts, name="bank"),
    path("payouts/bank/export/", views.bank_sepa_export, name="bank_export"),
    path("payouts/<int:payout_id>/", views.payout_detail, name="detail"),
    path("payouts/<int:payout_id>/approve/", views.payout_approve_view, name="approve"),
    path("payouts/<int:payout_id>/reject/", views.payout_reject_view, name="reject"),
    path("payouts/<int:payout_id>/bank/paid/", views.bank_mark_paid, name="bank_paid"),
    path("payouts/<int:payout_id>/bank/failed/", views.bank_mark_failed, name="bank_failed"),
    path("reconciliation/", views.reconciliation_differences, name="reconciliation"),
    path(
        "reconciliation/<int:difference_id>/resolve/",
        views.reconciliation_difference_resolve_view,
        name="reconciliation_resolve",
    ),
    path("audit/", audit_log, name="audit"),
]
