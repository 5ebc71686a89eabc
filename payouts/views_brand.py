"""The brand's order event pages: the event log, one order, and the CSV upload.

Every page is about the active brand (`brand_required`): an order is looked up among the
brand's own, so another brand's order is a 404. An upload is looked up through the user's
memberships, like a campaign, so another brand's upload is a 404 too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns.context_processors import set_active_brand
from campaigns.models import Brand
from campaigns.views_brand import _brand_context, _user, brand_required
from connect.forms import apply_service_errors
from payouts.csv_upload import (
    CSV_COLUMNS,
    PREVIEW_ERROR_LIMIT,
    csv_max_bytes,
    csv_upload_confirm,
    csv_upload_create,
    csv_upload_discard,
)
from payouts.event_log import Cursor, brand_order_page, event_log_page
from payouts.forms import CsvUploadForm, EventLogFilterForm
from payouts.models import CsvUpload

RECENT_UPLOADS = 10

# The template file offered for download: the header and one example of each type.
CSV_TEMPLATE = (
    ",".join(CSV_COLUMNS) + "\r\n"
    "evt_1001,order.paid,A-1001,2025-03-01T12:30:00Z,129.99,EUR,OLACREATES,\r\n"
    "evt_1002,order.refunded,A-1001,2025-03-05T09:00:00Z,29.99,EUR,,\r\n"
    "evt_1003,order.cancelled,A-1002,2025-03-06T10:15:00+01:00,,EUR,,\r\n"
)


def _context(request: HttpRequest, brand: Brand, tab: str, **extra: Any) -> dict[str, Any]:
    context = _brand_context(request, brand, "integration")
    context.update(events_tab=tab, **extra)
    return context


def _member_upload(request: HttpRequest, pk: int) -> CsvUpload:
    """The upload if the user belongs to its brand; 404 otherwise, as if it did not exist."""
    upload = get_object_or_404(
        CsvUpload.objects.select_related("brand", "uploaded_by"),
        pk=pk,
        brand__memberships__user=_user(request),
    )
    set_active_brand(request, upload.brand)
    return upload


@never_cache
@brand_required
def event_log(request: HttpRequest, brand: Brand) -> HttpResponse:
    """Every order event the brand sent, newest first, with its outcome; filterable."""
    form = EventLogFilterForm(request.GET or None)
    filters = form.filters()
    older_cursor = Cursor.decode(request.GET.get("before"))
    newer_cursor = Cursor.decode(request.GET.get("after"))
    if newer_cursor is not None:
        page = event_log_page(brand=brand, filters=filters, cursor=newer_cursor, older=False)
    else:
        page = event_log_page(brand=brand, filters=filters, cursor=older_cursor, older=True)
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("after", None)
    return render(
        request,
        "payouts/brand/event_log.html",
        _context(
            request,
            brand,
            "log",
            form=form,
            page=page,
            filter_query=query.urlencode(),
            filtered=form.active,
        ),
    )


@never_cache
@brand_required
def order_detail(request: HttpRequest, brand: Brand, order_id: str) -> HttpResponse:
    """One of the brand's orders: its amounts, attribution, events and commissions."""
    page = brand_order_page(brand=brand, order_id=order_id)
    if page is None:
        raise Http404(_("No order with this id."))
    return render(
        request, "payouts/brand/order_detail.html", _context(request, brand, "log", page=page)
    )


@never_cache
@brand_required
def csv_upload(request: HttpRequest, brand: Brand) -> HttpResponse:
    """Upload a CSV file: it is checked, and the preview waits for confirmation."""
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = csv_upload_create(
                brand=brand,
                actor=_user(request),
                uploaded_file=form.cleaned_data["file"],
                language=get_language() or "",
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("brand_events:upload_detail", pk=upload.pk)
    recent = CsvUpload.objects.filter(brand=brand).order_by("-created_at")[:RECENT_UPLOADS]
    return render(
        request,
        "payouts/brand/csv_upload.html",
        _context(
            request,
            brand,
            "upload",
            form=form,
            recent=recent,
            columns=CSV_COLUMNS,
            max_mb=round(csv_max_bytes() / (1024 * 1024)),
        ),
    )


def csv_template(request: HttpRequest) -> HttpResponse:
    """A CSV file to start from: the header and an example of each event type."""
    response = HttpResponse(CSV_TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="order-events-template.csv"'
    return response


@never_cache
@login_required
def csv_upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview of a checked file, or the progress of its import."""
    upload = _member_upload(request, pk)
    return render(
        request,
        "payouts/brand/csv_upload_detail.html",
        _context(
            request,
            upload.brand,
            "upload",
            upload=upload,
            shown_errors=min(upload.invalid_rows, PREVIEW_ERROR_LIMIT),
            new_events=max(0, upload.valid_rows - upload.file_duplicates - upload.known_duplicates),
        ),
    )


@never_cache
@login_required
def csv_upload_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The import's progress, polled by static/js/csv_upload.js."""
    upload = _member_upload(request, pk)
    return JsonResponse(upload.progress())


@login_required
@require_POST
def csv_upload_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _member_upload(request, pk)
    csv_upload_confirm(upload=upload, actor=_user(request))
    return redirect("brand_events:upload_detail", pk=upload.pk)


@login_required
@require_POST
def csv_upload_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _member_upload(request, pk)
    try:
        csv_upload_discard(upload=upload, actor=_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("brand_events:upload_detail", pk=upload.pk)
    messages.success(
        request, _("“%(name)s” is discarded; nothing was imported.") % {"name": upload.file_name}
    )
    return redirect("brand_events:upload")
