from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """The creator, brand and staff dashboards: read-only pages over the pipeline's rollups."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboards"
