"""The dashboards: a creator's earnings and commissions, a brand's campaigns and integration,
and the platform for staff. Read-only pages: they validate their filters and call the
selectors, which read rollups and balances only (see dashboards/selectors.py).

Tenancy: a creator's pages read their own profile's rows; a brand's read the active brand
of the signed-in member; a campaign named in a filter that is not theirs is a 404, as if it
did not exist.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from campaigns.context_processors import active_brand, user_brands
from campaigns.models import Brand, Campaign
from campaigns.permissions import brand_role
from connect.models import CreatorProfile, User
from connect.money import from_minor
from connect.permissions import creator_required
from dashboards import charts, selectors
from dashboards.selectors import CommissionFilters, Period
from payouts.models import CommissionStatus
from payouts.selectors import CommissionCursor, commission_keyset_page
from payouts.views_staff import staff_required

View = Callable[..., HttpResponseBase]

COMMISSION_PAGE_SIZE = selectors.COMMISSION_PAGE_SIZE


def _creator(request: HttpRequest) -> CreatorProfile:
    return request.user.creator_profile  # type: ignore[union-attr]


def _campaign_param(request: HttpRequest, campaigns: Iterable[Campaign]) -> Campaign | None:
    """The campaign `?campaign=` names among the reader's own; 404 for any other."""
    raw = request.GET.get("campaign", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404(_("No such campaign."))
    found = next((c for c in campaigns if c.pk == int(raw)), None)
    if found is None:
        raise Http404(_("No such campaign."))
    return found


def _period_links(request: HttpRequest, period: Period) -> list[dict[str, Any]]:
    """The 30/90/365-day switch, keeping the page's other parameters."""
    links = []
    for days in selectors.PERIOD_CHOICES:
        query = request.GET.copy()
        query["days"] = str(days)
        links.append(
            {
                "days": days,
                "label": _("%(days)s days") % {"days": days},
                "url": f"?{query.urlencode()}",
                "active": days == period.days,
            }
        )
    return links


def _csv_text(value: str) -> str:
    """Text a spreadsheet would run as a formula, quoted so that it stays text."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _iso_day(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).date().isoformat() if moment is not None else ""


# ---------------------------------------------------------------------------------------
# The creator's earnings


@never_cache
@require_GET
@creator_required
def creator_dashboard(request: HttpRequest) -> HttpResponse:
    """Balances per currency, the next payable day, daily earnings and clicks over the
    chosen period, and each campaign's part."""
    creator = _creator(request)
    period = Period.from_param(request.GET.get("days"))
    campaigns = selectors.creator_collaborated_campaigns(creator)
    activity = selectors.creator_activity(creator, period, campaigns)
    money = selectors.creator_money(creator)
    return render(
        request,
        "dashboards/creator.html",
        {
            "creator": creator,
            "money": money,
            "activity": activity,
            "period": period,
            "period_links": _period_links(request, period),
            "charts": [
                {
                    "series": series,
                    "svg": charts.earnings_chart(
                        series, chart_id=f"earnings-{series.currency}", period=period
                    ),
                }
                for series in activity.series
            ],
            "campaign_rows": [row for row in activity.campaigns if row.has_activity],
            "quiet_campaigns": [row for row in activity.campaigns if not row.has_activity],
        },
    )


class CommissionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *CommissionStatus.choices],
        widget=forms.Select(attrs={"class": "form-select-sm"}),
    )
    received_from = forms.DateField(
        label=gettext_lazy("Ordered from"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control-sm"}, format="%Y-%m-%d"
        ),
    )
    received_to = forms.DateField(
        label=gettext_lazy("Ordered until"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control-sm"}, format="%Y-%m-%d"
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("The end date is before the start date."))
        return data


def _commission_filters(
    request: HttpRequest, creator: CreatorProfile
) -> tuple[CommissionFilters, CommissionFilterForm, list[Campaign], Campaign | None]:
    campaigns = selectors.creator_collaborated_campaigns(creator)
    campaign = _campaign_param(request, campaigns)
    form = CommissionFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = CommissionFilters(
        campaign_id=campaign.pk if campaign else None,
        status=data.get("status") or None,
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
    )
    return filters, form, campaigns, campaign


def _commission_cursor(request: HttpRequest) -> CommissionCursor | None:
    """The page's `?cursor=`, or None for none or a damaged one (the first page)."""
    text = request.GET.get("cursor")
    if not text:
        return None
    try:
        return CommissionCursor.decode(text)
    except ValueError:
        return None


@never_cache
@require_GET
@creator_required
def creator_commissions(request: HttpRequest) -> HttpResponse:
    """Every commission of the creator, newest change first, 50 a page (keyset pages)."""
    creator = _creator(request)
    filters, form, campaigns, campaign = _commission_filters(request, creator)
    page = commission_keyset_page(
        selectors.creator_commissions(creator, filters),
        _commission_cursor(request),
        size=COMMISSION_PAGE_SIZE,
    )
    if page.restart:
        query = request.GET.copy()
        query.pop("cursor", None)
        return redirect(f"{request.path}?{query.urlencode()}")
    base = request.GET.copy()
    base.pop("cursor", None)

    def link(cursor: CommissionCursor | None) -> str | None:
        if cursor is None:
            return None
        query = base.copy()
        query["cursor"] = cursor.encode()
        return f"?{query.urlencode()}"

    return render(
        request,
        "dashboards/creator_commissions.html",
        {
            "creator": creator,
            "form": form,
            "campaigns": campaigns,
            "campaign": campaign,
            "page": page,
            "next_url": link(page.next),
            "previous_url": link(page.previous),
            "filtered": bool(
                campaign or filters.status or filters.received_from or filters.received_to
            ),
            "csv_url": f"{reverse('dashboards:creator_commissions_csv')}?{base.urlencode()}",
            "first_page": request.GET.get("cursor") is None,
            "newest_url": f"?{base.urlencode()}",
        },
    )


COMMISSION_CSV_HEADER = (
    "order_id",
    "campaign",
    "currency",
    "order_amount",
    "commission",
    "status",
    "ordered_on",
    "payable_on",
)


@never_cache
@require_GET
@creator_required  # type: ignore[arg-type]  # connect's decorators name HttpResponse only
def creator_commissions_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered commissions as a CSV, streamed from a server-side cursor."""
    creator = _creator(request)
    filters, _form, _campaigns, _campaign = _commission_filters(request, creator)
    rows = selectors.creator_commission_rows(creator, filters)

    def lines() -> Iterator[str]:
        yield _csv_line(COMMISSION_CSV_HEADER)
        for order_ref, title, currency, net, amount, status, received, payable in rows:
            yield _csv_line(
                [
                    _csv_text(order_ref),
                    _csv_text(title),
                    currency,
                    from_minor(net, currency),
                    from_minor(amount, currency),
                    status,
                    _iso_day(received),
                    _iso_day(payable) if status == CommissionStatus.PENDING else "",
                ]
            )

    return _csv_response(lines(), f"commissions-{creator.handle}.csv")


# ---------------------------------------------------------------------------------------
# The brand's dashboard


def brand_member_required(view: View) -> View:
    """Signed in and a member of a brand: the view gets the active brand (users without a
    brand go to the brand home, which offers to create one)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        brand = active_brand(request)
        if brand is None:
            return redirect("brand:home")
        return view(request, brand, *args, **kwargs)

    return login_required(wrapper)


@never_cache
@require_GET
@brand_member_required
def brand_dashboard(request: HttpRequest, brand: Brand) -> HttpResponse:
    """Clicks, orders, revenue and commission cost over the period, overall (per currency)
    and per campaign, top creators, and the health of the brand's integration."""
    period = Period.from_param(request.GET.get("days"))
    all_campaigns = selectors.brand_campaigns(brand)
    campaign = _campaign_param(request, all_campaigns)
    shown = [campaign] if campaign is not None else all_campaigns
    activity = selectors.brand_activity(brand, period, shown)
    top = selectors.brand_top_creators(
        brand, currencies=[s.currency for s in activity.series], campaign=campaign
    )
    health = selectors.brand_integration_health(brand, period)
    user = request.user
    assert isinstance(user, User)
    query = {"days": period.days, **({"campaign": campaign.pk} if campaign else {})}
    return render(
        request,
        "dashboards/brand.html",
        {
            "brand": brand,
            "brand_role": brand_role(user, brand),
            "brands": user_brands(request),
            "section": "dashboard",
            "period": period,
            "period_links": _period_links(request, period),
            "campaigns": all_campaigns,
            "campaign": campaign,
            "activity": activity,
            "overview": [
                {
                    "series": series,
                    "svg": charts.brand_chart(
                        series, chart_id=f"brand-{series.currency}", period=period
                    ),
                    "top": top.get(series.currency, []),
                }
                for series in activity.series
            ],
            "pending_applications": sum(r.pending_applications for r in activity.campaigns),
            "health": health,
            "events_svg": charts.events_chart(health, chart_id="brand-events"),
            "csv_url": f"{reverse('dashboards:brand_csv')}?{urlencode(query)}",
        },
    )


BRAND_CSV_HEADER = ("date", "campaign", "currency", "clicks", "orders", "revenue", "commission")


@never_cache
@require_GET
@brand_member_required
def brand_dashboard_csv(request: HttpRequest, brand: Brand) -> StreamingHttpResponse:
    """One row per campaign and day of the period, streamed from server-side cursors."""
    period = Period.from_param(request.GET.get("days"))
    all_campaigns = selectors.brand_campaigns(brand)
    campaign = _campaign_param(request, all_campaigns)
    shown = [campaign] if campaign is not None else all_campaigns
    rows = selectors.brand_campaign_days(brand, period, shown)

    def lines() -> Iterator[str]:
        yield _csv_line(BRAND_CSV_HEADER)
        for row in rows:
            yield _csv_line(
                [
                    row.day.isoformat(),
                    _csv_text(row.title),
                    row.currency,
                    row.clicks,
                    row.orders,
                    from_minor(row.revenue_minor, row.currency),
                    from_minor(row.commission_minor, row.currency),
                ]
            )

    return _csv_response(lines(), f"dashboard-{brand.slug}-{period.start}-{period.end}.csv")


# ---------------------------------------------------------------------------------------
# The staff dashboard


@never_cache
@require_GET
@staff_required
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    """Platform money, the payout queue, refused events and failed payouts, open
    reconciliation differences, and how far the workers and the click flush lag."""
    return render(
        request,
        "dashboards/staff.html",
        {
            "platform": selectors.platform_money(),
            "failed_events": selectors.failed_events(),
            "failed_payouts": selectors.failed_payouts_latest(),
            "reconciliation_open": selectors.reconciliation_open_count(),
            "worker_lag": selectors.worker_lag(),
            "click_lag": selectors.click_flush_lag(),
        },
    )
