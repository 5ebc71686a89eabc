"""Forms for the creator side: marketplace filters and the application pitch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField  # type: ignore[attr-defined]

from campaigns.models import Collaboration, CommissionType
from campaigns.selectors import MarketplaceFilters
from connect.forms import BootstrapFormMixin
from connect.models import Niche

MARKETPLACE_SORTS = [
    ("newest", _("Newest")),
    ("commission", _("Highest commission")),
]


class MarketplaceFilterForm(BootstrapFormMixin, forms.Form):
    """The marketplace's search box and filters, read from the query string."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": _("Brand, campaign or keyword")}),
    )
    niche = forms.ModelChoiceField(
        label=_("Niche"),
        queryset=Niche.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label=_("All niches"),
    )
    country = LazyTypedChoiceField(label=_("Audience country"), choices=countries, required=False)
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    commission_type = forms.ChoiceField(label=_("Commission"), required=False)
    min_percent = forms.DecimalField(
        label=_("Minimum rate (%)"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.5", "placeholder": "0"}),
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=MARKETPLACE_SORTS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("All countries")), *list(countries)]  # type: ignore[attr-defined]
        self.fields["currency"].choices = [  # type: ignore[attr-defined]
            ("", _("Any")),
            *[(code, code) for code in settings.CAMPAIGN_CURRENCIES],
        ]
        self.fields["commission_type"].choices = [  # type: ignore[attr-defined]
            ("", _("Any type")),
            (CommissionType.PERCENT, _("Percent of the order")),
            (CommissionType.FIXED, _("Fixed amount per order")),
        ]
        self._style_widgets()

    def to_filters(self) -> MarketplaceFilters:
        """The selector's filters; an invalid form filters nothing rather than failing."""
        if not self.is_valid():
            return MarketplaceFilters()
        data = self.cleaned_data
        return MarketplaceFilters(
            query=data["q"].strip(),
            niche=data["niche"].slug if data["niche"] else "",
            country=data["country"] or "",
            currency=data["currency"] or "",
            commission_type=data["commission_type"] or "",
            # 0 % means "any rate": it must not hide fixed-amount campaigns.
            min_percent=data["min_percent"] or None,
            sort=data["sort"] or "newest",
        )

    @property
    def has_filters(self) -> bool:
        """Whether anything beyond the sort narrows the list (for the empty state's advice)."""
        if not self.is_bound or not self.is_valid():
            return False
        return any(value for name, value in self.cleaned_data.items() if name != "sort")


class ApplicationForm(BootstrapFormMixin, forms.Form):
    """A creator's pitch to a campaign that reviews each application."""

    pitch = forms.CharField(
        label=_("Your pitch"),
        max_length=Collaboration._meta.get_field("pitch").max_length,
        help_text=_(
            "Tell the brand about your audience and how you would present their product. "
            "They read this before accepting you."
        ),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Tell the brand why you are a good fit.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()
