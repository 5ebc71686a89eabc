from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectConfig(AppConfig):
    """Accounts, creator profiles, signup and the pieces every app shares."""

    name = "connect"
    verbose_name = _("Accounts and creators")
