"""Forms of the staff payout pages: the queue's filters, bulk and single decisions, the bank
rail's settlement and the resolution of reconciliation differences."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from payouts.models import PayoutRail, PayoutStatus
from payouts.payout_selectors import PayoutQueueFilters

ALL = ""


def _currency_choices() -> list[tuple[str, str]]:
    currencies = sorted(set(settings.PAYOUT_MINIMUMS) - {"*"})
    return [(ALL, _("Any currency")), *[(code, code) for code in currencies]]


class PayoutQueueFilterForm(forms.Form):
    """The approval queue's filters; without any, the queue shows what awaits approval."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(ALL, _("Any status")), *PayoutStatus.choices],
        initial=PayoutStatus.REQUESTED,
    )
    rail = forms.ChoiceField(
        label=_("Payout method"),
        required=False,
        choices=[(ALL, _("Any method")), *PayoutRail.choices],
    )
    currency = forms.ChoiceField(label=_("Currency"), required=False, choices=())
    creator = forms.CharField(
        label=_("Creator"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": _("Handle or name"), "type": "search"}),
    )
    amount_min = forms.DecimalField(
        label=_("Amount at least"),
        required=False,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "0.00"}),
    )

    def __init__(self, data: object = None, **kwargs: object) -> None:
        super().__init__(data, **kwargs)  # type: ignore[arg-type]
        self.fields["currency"].choices = _currency_choices()  # type: ignore[attr-defined]
        for bound in self:
            is_select = isinstance(bound.field, forms.ChoiceField)
            bound.field.widget.attrs["class"] = (
                "form-select form-select-sm" if is_select else "form-control form-control-sm"
            )

    def filters(self) -> PayoutQueueFilters:
        if not self.is_bound:
            return PayoutQueueFilters()
        if not self.is_valid():
            # Bad input shows the form's errors over what awaits approval.
            return PayoutQueueFilters()
        data = self.cleaned_data
        amount = data.get("amount_min")
        return PayoutQueueFilters(
            status=data.get("status") or ALL,
            rail=data.get("rail") or ALL,
            currency=data.get("currency") or ALL,
            creator=data.get("creator") or "",
            amount_min=str(amount) if amount is not None else "",
        )


class PayoutIdsField(forms.Field):
    """The ids of the ticked payouts (checkboxes sharing one name)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Tick at least one payout."),
        "invalid": _("Tick payouts from the list."),
    }

    def to_python(self, value: object) -> list[int]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        try:
            return sorted({int(str(item)) for item in value})
        except ValueError as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error


class BulkDecisionForm(forms.Form):
    """Approve or reject the payouts ticked in the queue."""

    APPROVE = "approve"
    REJECT = "reject"

    # Any id passes here; the services refuse payouts in the wrong state one by one.
    payouts = PayoutIdsField()
    action = forms.ChoiceField(choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))])
    reason = forms.CharField(
        label=_("Reason for rejecting"), required=False, max_length=2000, strip=True
    )
    next = forms.CharField(required=False, max_length=2000)

    error_messages = {"reason_required": _("Give a reason for rejecting; the creator reads it.")}

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == self.REJECT and not cleaned.get("reason"):
            self.add_error("reason", self.error_messages["reason_required"])
        return cleaned


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text=_("The creator reads this in their email and on their payouts page."),
    )


class BankPaidForm(forms.Form):
    reference = forms.CharField(
        label=_("Bank reference"),
        max_length=140,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )


class BankFailedForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the bank refused it"),
        max_length=2000,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )


class SepaExportForm(forms.Form):
    currency = forms.RegexField(regex=r"^[A-Z]{3}$", max_length=3)


class ResolveDifferenceForm(forms.Form):
    note = forms.CharField(
        label=_("What you found or did"),
        max_length=2000,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
