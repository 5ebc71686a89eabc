"""Forms of the creator's payout pages: the bank account, the payout method and a payout
request. They check what a person typed; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from connect.forms import BootstrapFormMixin, apply_service_errors
from connect.money import MoneyError, to_minor
from payouts.models import PayoutRail
from payouts.payout_accounts import BankDetails, bank_details_parse


class BankAccountForm(BootstrapFormMixin, forms.Form):
    """Account holder, IBAN and BIC. The IBAN field always starts empty: a stored IBAN is never
    sent back to the browser."""

    holder_name = forms.CharField(
        label=_lazy("Account holder"),
        max_length=140,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    iban = forms.CharField(
        label=_lazy("IBAN"),
        max_length=50,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "font-monospace"}
        ),
    )
    bic = forms.CharField(
        label=_lazy("BIC (SWIFT code)"),
        max_length=14,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "font-monospace"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "iban" in cleaned and "bic" in cleaned:
            try:
                self.details: BankDetails = bank_details_parse(
                    iban=cleaned["iban"], bic=cleaned["bic"]
                )
            except ValidationError as error:
                apply_service_errors(self, error)
        return cleaned


class PayoutRailForm(forms.Form):
    rail = forms.ChoiceField(label=_lazy("Payout method"), choices=PayoutRail.choices)


class PayoutRequestForm(BootstrapFormMixin, forms.Form):
    """How much of one currency's available balance to pay out, as a decimal string."""

    currency = forms.CharField(widget=forms.HiddenInput, max_length=3)
    amount = forms.CharField(
        label=_lazy("Amount"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currencies = currencies
        self._style_widgets()

    def clean_currency(self) -> str:
        currency = str(self.cleaned_data["currency"]).upper()
        if currency not in self.currencies:
            raise ValidationError(
                _("You have no earnings in %(currency)s.") % {"currency": currency}
            )
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        currency = cleaned.get("currency")
        amount = str(cleaned.get("amount") or "").strip().replace(",", ".")
        if currency and amount:
            try:
                cleaned["amount_minor"] = to_minor(amount, currency)
            except MoneyError:
                self.add_error(
                    "amount",
                    _("Enter an amount in %(currency)s like 120.50.") % {"currency": currency},
                )
        return cleaned
