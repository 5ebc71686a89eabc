from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Brands, campaigns, collaborations and click tracking."""

    name = "campaigns"
    verbose_name = _("Campaigns")
