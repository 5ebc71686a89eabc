"""Forms of the brand's order event pages: the event log's filters and the CSV upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from connect.forms import BootstrapFormMixin
from payouts.event_log import OUTCOME_CHOICES, EventLogFilters
from payouts.ingest import MAX_ID_LENGTH
from payouts.models import OrderEventSource


class EventLogFilterForm(BootstrapFormMixin, forms.Form):
    """The event log's filters, read from the query string; every field is optional."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("Any outcome")), *OUTCOME_CHOICES]
    )
    source = forms.ChoiceField(
        label=_("Source"),
        required=False,
        choices=[("", _("Any source")), *OrderEventSource.choices],
    )
    order_id = forms.CharField(label=_("Order id"), required=False, max_length=MAX_ID_LENGTH)
    event_id = forms.CharField(label=_("Event id"), required=False, max_length=MAX_ID_LENGTH)
    received_from = forms.DateField(
        label=_("Received from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_to = forms.DateField(
        label=_("Received until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()
        for field in self.fields.values():
            css = field.widget.attrs.get("class", "")
            small = "form-select-sm" if "form-select" in css else "form-control-sm"
            field.widget.attrs["class"] = f"{css} {small}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("received_from"), cleaned.get("received_to")
        if start and end and end < start:
            self.add_error("received_to", _("Pick a day on or after the first one."))
        return cleaned

    def filters(self) -> EventLogFilters:
        """The filters to apply: the valid ones (the form shows the others' errors)."""
        if not self.is_bound:
            return EventLogFilters()
        self.is_valid()
        data = self.cleaned_data
        return EventLogFilters(
            outcome=data.get("outcome") or "",
            source=data.get("source") or "",
            order_id=(data.get("order_id") or "").strip(),
            event_id=(data.get("event_id") or "").strip(),
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
        )

    @property
    def active(self) -> bool:
        """Whether any filter is set (the page then offers to clear them)."""
        return any(value not in (None, "") for value in self.filters().__dict__.values())


class CsvUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 text, comma or semicolon separated, with a header row naming the columns."
        ),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()
