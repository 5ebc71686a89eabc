"""Forms for creator onboarding and profile editing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField  # type: ignore[attr-defined]

from connect.handles import validate_handle
from connect.models import Niche, SocialPlatform
from connect.services import SocialAccountInput
from connect.social import MAX_FOLLOWERS, parse_social_account

SPOKEN_LANGUAGES = (
    "en",
    "pl",
    "es",
    "de",
    "fr",
    "it",
    "pt",
    "nl",
    "cs",
    "sk",
    "ro",
    "hu",
    "sv",
    "da",
    "fi",
    "el",
    "uk",
    "lt",
    "lv",
    "et",
    "hr",
    "sl",
    "bg",
    "ca",
    "gl",
    "eu",
    "tr",
    "ar",
)
LANGUAGE_CHOICES = [(code, LANG_INFO[code]["name_local"].capitalize()) for code in SPOKEN_LANGUAGES]


def apply_service_errors(
    form: forms.Form, exc: ValidationError, field_names: dict[str, str] | None = None
) -> None:
    """Show a service's refusal on the form: keyed errors on their field (renamed through
    `field_names` where the form calls it otherwise), the rest on top of the form."""
    field_names = field_names or {}
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            field = field_names.get(key, key)
            form.add_error(field if field in form.fields else None, errors)
        return
    for error in exc.error_list:
        # Some checks raise unkeyed errors whose code names the one field they are about.
        if error.code in form.fields:
            form.add_error(error.code, error)
        else:
            form.add_error(None, error)


class BootstrapFormMixin:
    """Give every widget the Bootstrap class its kind needs."""

    def _style_widgets(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect)):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class CreatorProfileForm(BootstrapFormMixin, forms.Form):
    handle = forms.CharField(
        label=_("Handle"),
        max_length=31,
        help_text=_("Your public address: /@handle. Letters, digits and underscores."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=80)
    bio = forms.CharField(
        label=_("Bio"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you create and for whom. Up to 1000 characters."),
    )
    country = LazyTypedChoiceField(label=_("Country"), choices=countries)
    languages = forms.MultipleChoiceField(
        label=_("Languages you create in"),
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    niches = forms.ModelMultipleChoiceField(
        label=_("Niches"),
        queryset=Niche.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
    )
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=_("JPEG, PNG or WebP, up to 5 MB. We crop it to a square."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose your country")), *list(countries)]  # type: ignore[attr-defined]
        self._style_widgets()

    def clean_handle(self) -> str:
        return validate_handle(self.cleaned_data["handle"])


class SocialAccountForm(BootstrapFormMixin, forms.Form):
    platform = forms.ChoiceField(
        label=_("Platform"), choices=[("", "—"), *SocialPlatform.choices], required=False
    )
    handle_or_url = forms.CharField(
        label=_("Handle or profile URL"), max_length=300, required=False
    )
    follower_count = forms.IntegerField(
        label=_("Followers"), min_value=0, max_value=MAX_FOLLOWERS, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        platform = data.get("platform")
        value = data.get("handle_or_url")
        followers = data.get("follower_count")
        if not platform and not value and followers is None:
            data["empty"] = True
            return data
        if not platform:
            self.add_error("platform", _("Choose a platform."))
        if not value:
            self.add_error("handle_or_url", _("Enter a handle or a profile URL."))
        if followers is None:
            self.add_error("follower_count", _("Enter the follower count."))
        if platform and value:
            try:
                parse_social_account(platform, value)
            except ValidationError as exc:
                self.add_error("handle_or_url", exc)
        return data

    def to_input(self) -> SocialAccountInput | None:
        data = getattr(self, "cleaned_data", None)
        # Untouched extra rows are not validated at all and have no cleaned data.
        if not data or data.get("empty"):
            return None
        return SocialAccountInput(
            platform=data["platform"],
            handle_or_url=data["handle_or_url"],
            follower_count=data["follower_count"],
        )


SocialAccountFormSet = forms.formset_factory(
    SocialAccountForm, extra=2, max_num=12, absolute_max=12
)


class DirectoryFilterForm(BootstrapFormMixin, forms.Form):
    # Two letters match a quarter of all creators and no trigram index can serve them.
    q = forms.CharField(label=_("Search"), required=False, min_length=3, max_length=80)
    niche = forms.ModelChoiceField(
        label=_("Niche"),
        queryset=Niche.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label=_("All niches"),
    )
    country = LazyTypedChoiceField(label=_("Country"), choices=countries, required=False)
    followers_min = forms.IntegerField(label=_("Min. followers"), min_value=0, required=False)
    followers_max = forms.IntegerField(label=_("Max. followers"), min_value=0, required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("followers", _("Most followers")),
            ("newest", _("Newest")),
            ("name", _("Name")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("All countries")), *list(countries)]  # type: ignore[attr-defined]
        self._style_widgets()
