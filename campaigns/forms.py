"""Forms for the brand side: brand signup, the team, campaigns and collaboration decisions.

Forms check what a person typed (shape, ranges, decimals); the services check the rules of
the domain and may still refuse, and the views map those errors back onto these fields.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField  # type: ignore[attr-defined]

from campaigns.codes import validate_discount_code
from campaigns.models import BrandRole, Campaign, CampaignTerms, CommissionType, JoinMode
from campaigns.services import CampaignInput, TermsInput
from connect.forms import BootstrapFormMixin
from connect.models import Niche
from connect.money import MoneyError, from_minor, to_minor


class BrandForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Brand name"), max_length=120)
    slug = forms.SlugField(
        label=_("Page address"),
        max_length=60,
        required=False,
        help_text=_(
            "Your public page will be /brands/<page address>/: lowercase letters, digits and "
            "hyphens. Left empty, we make it from the name."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    website = forms.URLField(
        label=_("Website"),
        max_length=300,
        assume_scheme="https",
        help_text=_("Where creators can see what you sell."),
    )
    country = LazyTypedChoiceField(label=_("Country"), choices=countries)
    description = forms.CharField(
        label=_("About the brand"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown on your public page. Up to 2000 characters."),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("JPEG, PNG or WebP, up to 5 MB. We crop it to a square."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose a country")), *list(countries)]  # type: ignore[attr-defined]
        self._style_widgets()


class BrandMemberInviteForm(BootstrapFormMixin, forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=BrandRole.choices,
        initial=BrandRole.MANAGER,
        help_text=_("Managers run campaigns; owners also manage the team."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()


# brand.js lists the chosen countries under the (long) list, each with an unselect button.
_COUNTRY_LIST_ATTRS = {"size": 6, "data-chosen-list": "", "data-remove-label": _("Unselect")}


def _country_choices() -> list[tuple[str, str]]:
    return list(countries)


class CampaignForm(BootstrapFormMixin, forms.Form):
    """A campaign and its commission terms, as one page of fields.

    Amounts are typed as decimal strings in the campaign's currency and become minor units
    here, through `connect.money`, so that a rounding never happens silently.
    """

    title = forms.CharField(label=_("Title"), max_length=140)
    brief = forms.CharField(
        label=_("Brief"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "What to show, what to say and what to avoid. Markdown: **bold**, *italic*, "
            "lists and links."
        ),
    )
    landing_url = forms.URLField(
        label=_("Landing page"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where tracking links send people. It must start with https://."),
    )
    niche = forms.ModelChoiceField(
        label=_("Niche"), queryset=Niche.objects.all(), empty_label=_("Choose a niche")
    )
    target_countries = forms.MultipleChoiceField(
        label=_("Target countries"),
        choices=_country_choices,
        required=False,
        widget=forms.SelectMultiple(attrs=_COUNTRY_LIST_ATTRS),
        help_text=_("Where you sell. Leave empty for everywhere. Ctrl/⌘-click picks several."),
    )
    commission_type = forms.ChoiceField(
        label=_("Commission"),
        choices=CommissionType.choices,
        initial=CommissionType.PERCENT,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    commission_percent = forms.DecimalField(
        label=_("Percent of the order"),
        required=False,
        max_digits=5,
        decimal_places=2,
        help_text=_("Above 0 and at most 100, e.g. 12.5."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "max": "100"}),
    )
    commission_fixed = forms.CharField(
        label=_("Fixed amount per order"),
        required=False,
        max_length=20,
        help_text=_("In the campaign's currency, e.g. 15.00."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        help_text=_("Orders in other currencies are refused. Fixed once the campaign is live."),
    )
    hold_days = forms.IntegerField(
        label=_("Hold period (days)"),
        min_value=0,
        max_value=365,
        initial=30,
        help_text=_("Days before a commission becomes payable, to let refunds come in."),
    )
    attribution_window_days = forms.IntegerField(
        label=_("Attribution window (days)"),
        min_value=1,
        max_value=365,
        initial=30,
        help_text=_("How long after a click an order still counts for the creator."),
    )
    join_mode = forms.ChoiceField(
        label=_("How creators join"),
        choices=JoinMode.choices,
        initial=JoinMode.OPEN,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    min_followers = forms.IntegerField(
        label=_("Minimum followers"),
        min_value=0,
        initial=0,
        required=False,
        help_text=_("On at least one platform. 0 accepts everyone."),
    )
    eligible_countries = forms.MultipleChoiceField(
        label=_("Creators from"),
        choices=_country_choices,
        required=False,
        widget=forms.SelectMultiple(attrs=_COUNTRY_LIST_ATTRS),
        help_text=_("Only creators living in these countries may join. Empty: anywhere."),
    )
    starts_on = forms.DateField(
        label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("End date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    budget = forms.CharField(
        label=_("Commission budget"),
        required=False,
        max_length=20,
        help_text=_("Optional: the most you plan to pay in commissions, e.g. 5000.00."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    # Service errors are keyed by model field; these are the form fields that show them.
    SERVICE_FIELD_NAMES = {"commission_fixed_minor": "commission_fixed", "budget_minor": "budget"}

    def __init__(self, *args: Any, currency_locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in settings.CAMPAIGN_CURRENCIES]  # type: ignore[attr-defined]
        if currency_locked:
            self.fields["currency"].disabled = True
        self._style_widgets()

    @classmethod
    def initial_for(cls, campaign: Campaign, terms: CampaignTerms | None) -> dict[str, Any]:
        """The form's values for an existing campaign and the terms in force."""
        initial: dict[str, Any] = {
            "title": campaign.title,
            "brief": campaign.brief,
            "landing_url": campaign.landing_url,
            "niche": campaign.niche_id,
            "target_countries": campaign.target_countries,
            "currency": campaign.currency,
            "join_mode": campaign.join_mode,
            "min_followers": campaign.min_followers,
            "eligible_countries": campaign.eligible_countries,
            "starts_on": campaign.starts_on,
            "ends_on": campaign.ends_on,
            "budget": (
                from_minor(campaign.budget_minor, campaign.currency)
                if campaign.budget_minor is not None
                else ""
            ),
        }
        if terms is not None:
            initial.update(
                commission_type=terms.commission_type,
                commission_percent=terms.commission_percent,
                commission_fixed=(
                    from_minor(terms.commission_fixed_minor, campaign.currency)
                    if terms.commission_fixed_minor is not None
                    else ""
                ),
                hold_days=terms.hold_days,
                attribution_window_days=terms.attribution_window_days,
            )
        return initial

    def clean_landing_url(self) -> str:
        url: str = self.cleaned_data["landing_url"]
        if urlsplit(url).scheme != "https":
            raise ValidationError(_("The landing page must be an https:// address."))
        return url

    def _amount(self, field: str, currency: str | None) -> int | None:
        text = (self.cleaned_data.get(field) or "").strip()
        if not text or not currency:
            return None
        try:
            amount = to_minor(text, currency)
        except MoneyError:
            self.add_error(
                field,
                _("Enter an amount like 12.50, with at most the decimals %(currency)s allows.")
                % {"currency": currency},
            )
            return None
        if amount <= 0:
            self.add_error(field, _("Enter an amount above zero."))
            return None
        return amount

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        currency = data.get("currency")
        kind = data.get("commission_type")
        # Only the field of the chosen commission type counts: a value left in the other
        # one (the brand switched type) is ignored rather than refused.
        data["commission_fixed_minor"] = None
        if kind == CommissionType.PERCENT:
            percent: Decimal | None = data.get("commission_percent")
            if percent is None and "commission_percent" not in self.errors:
                self.add_error("commission_percent", _("Enter the percent creators earn."))
            elif percent is not None and not Decimal(0) < percent <= Decimal(100):
                self.add_error("commission_percent", _("Enter a percent above 0 and at most 100."))
        elif kind == CommissionType.FIXED:
            data["commission_percent"] = None
            if not (data.get("commission_fixed") or "").strip():
                self.add_error("commission_fixed", _("Enter the amount creators earn per order."))
            else:
                data["commission_fixed_minor"] = self._amount("commission_fixed", currency)
        data["budget_minor"] = self._amount("budget", currency)
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The campaign cannot end before it starts."))
        return data

    def to_inputs(self) -> tuple[CampaignInput, TermsInput]:
        data = self.cleaned_data
        campaign = CampaignInput(
            title=data["title"].strip(),
            brief=data["brief"],
            landing_url=data["landing_url"],
            niche=data["niche"],
            currency=data["currency"],
            target_countries=list(data["target_countries"]),
            join_mode=data["join_mode"],
            min_followers=data["min_followers"] or 0,
            eligible_countries=list(data["eligible_countries"]),
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            budget_minor=data["budget_minor"],
        )
        terms = TermsInput(
            commission_type=data["commission_type"],
            commission_percent=(
                data["commission_percent"]
                if data["commission_type"] == CommissionType.PERCENT
                else None
            ),
            commission_fixed_minor=data["commission_fixed_minor"],
            hold_days=data["hold_days"],
            attribution_window_days=data["attribution_window_days"],
        )
        return campaign, terms


class _CollaborationForm(BootstrapFormMixin, forms.Form):
    """One small form per collaboration row; ids carry the row so they stay unique."""

    def __init__(self, *args: Any, row: int | None = None, **kwargs: Any) -> None:
        if row is not None:
            kwargs.setdefault("auto_id", f"id_{type(self).__name__.lower()}_{row}_%s")
        super().__init__(*args, **kwargs)
        self._style_widgets()


class DiscountCodeForm(_CollaborationForm):
    discount_code = forms.CharField(
        label=_("Discount code"),
        max_length=32,
        help_text=_("3 to 32 letters, digits, hyphens or underscores; unique in your brand."),
    )

    def clean_discount_code(self) -> str:
        return validate_discount_code(self.cleaned_data["discount_code"])


class AcceptApplicationForm(_CollaborationForm):
    discount_code = forms.CharField(
        label=_("Discount code (optional)"),
        max_length=32,
        required=False,
        help_text=_("Left empty, we make one from the creator's handle."),
    )

    def clean_discount_code(self) -> str:
        code: str = self.cleaned_data["discount_code"].strip()
        return validate_discount_code(code) if code else ""


class RejectApplicationForm(_CollaborationForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The creator receives it by email."),
    )


class RemoveCreatorForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the creator with the notice."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()


class InviteCreatorForm(BootstrapFormMixin, forms.Form):
    handle = forms.CharField(
        label=_("Creator handle"),
        max_length=31,
        widget=forms.TextInput(attrs={"placeholder": "@handle", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()

    def clean_handle(self) -> str:
        return self.cleaned_data["handle"].strip().removeprefix("@")
