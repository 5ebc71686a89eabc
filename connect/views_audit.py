"""The staff page of the audit log (`/staff/audit/`): filter, page through, read the diffs.

Staff only: anonymous visitors go to the login page, signed-in non-staff get a 403. The page
only reads; the log cannot be changed from anywhere.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from connect.audit import (
    AuditCursor,
    AuditFilters,
    audit_entries_page,
    audit_entry_changes,
    audit_target_url,
)
from payouts.views_staff import staff_required


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action starts with"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "payouts.payout."}),
    )
    actor = forms.CharField(label=_("Actor (email or user ID)"), required=False, max_length=254)
    target_type = forms.CharField(
        label=_("Object type"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "payouts.payout"}),
    )
    target_id = forms.CharField(label=_("Object ID"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control form-control-sm"

    def filters(self) -> AuditFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilters(
            action=(data.get("action") or "").strip(),
            actor=(data.get("actor") or "").strip(),
            target_type=(data.get("target_type") or "").strip(),
            target_id=(data.get("target_id") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


@require_GET
@never_cache
@staff_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.filters()
    after = AuditCursor.decode(request.GET.get("after", ""))
    page = audit_entries_page(filters, after=after)
    query = {key: value for key, value in request.GET.items() if key != "after" and value}
    next_url = None
    if page.next_cursor is not None:
        next_url = f"{request.path}?{urlencode({**query, 'after': page.next_cursor.encode()})}"
    rows = [
        {
            "entry": entry,
            "changes": audit_entry_changes(entry),
            "target_url": audit_target_url(entry),
        }
        for entry in page.entries
    ]
    return render(
        request,
        "connect/audit_log.html",
        {
            "form": form,
            "rows": rows,
            "next_url": next_url,
            "first_url": f"{request.path}?{urlencode(query)}" if after is not None else None,
        },
    )
