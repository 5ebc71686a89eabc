from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayoutsConfig(AppConfig):
    """Order events, commissions, the ledger, payouts and Stripe."""

    name = "payouts"
    verbose_name = _("Payouts")

    def ready(self) -> None:
        # Celery's autodiscovery imports `payouts.tasks` only.
        from payouts import tasks_csv  # noqa: F401
