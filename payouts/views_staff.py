"""Staff pages for payouts: the approval queue with risk signals, one payout, the bank rail's
SEPA export and settlement, and the differences reconciliation found.

Every page is for staff only: anonymous visitors go to the login page, signed-in non-staff
get a 403. The views validate forms and call the services; the services check staff again
and refuse what the payout's state does not allow, and their messages are shown as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from connect.models import User
from payouts import payout_services
from payouts.forms_staff import (
    BankFailedForm,
    BankPaidForm,
    BulkDecisionForm,
    PayoutQueueFilterForm,
    RejectForm,
    ResolveDifferenceForm,
    SepaExportForm,
)
from payouts.models import Payout, PayoutRail, PayoutStatus, ReconciliationDifference
from payouts.payout_selectors import (
    PayoutApprovals,
    PayoutRisk,
    bank_payouts_open,
    payout_approvals,
    payout_audit_trail,
    payout_get,
    payout_ledger_transactions,
    payout_queue,
    payout_risks,
    reconciliation_differences_open,
)
from payouts.reconciliation_actions import reconciliation_difference_resolve
from payouts.selectors import creator_balances
from payouts.sepa import bank_payouts_export

QUEUE_PAGE_SIZE = 50

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Signed in (else the login page) and staff (else 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_staff and request.user.is_active):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _error_text(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("You may not do this.")


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Back to the page the form was on (a local URL only), else to `fallback`."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return HttpResponseRedirect(target or fallback)


# --- the approval queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    payout: Payout
    risk: PayoutRisk
    approvals: PayoutApprovals


@never_cache
@require_GET
@staff_required
def payout_queue_view(request: HttpRequest) -> HttpResponse:
    """Payouts awaiting approval (or as filtered), 50 a page, each with its risk signals."""
    form = PayoutQueueFilterForm(request.GET or None)
    filters = form.filters()
    paginator = Paginator(payout_queue(filters), QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    payouts = list(page.object_list)
    risks = payout_risks(payouts)
    rows = [
        QueueRow(payout=payout, risk=risks[payout.pk], approvals=payout_approvals(payout))
        for payout in payouts
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "payouts/staff/queue.html",
        {
            "staff_tab": "queue",
            "form": form,
            "page": page,
            "rows": rows,
            "filter_query": query.urlencode(),
            "filtered": bool(request.GET.keys() - {"page"}),
            "decidable": filters.status in ("", PayoutStatus.REQUESTED),
            "bulk_form": BulkDecisionForm(),
        },
    )


@require_POST
@staff_required
def payout_bulk_decide(request: HttpRequest) -> HttpResponse:
    """Approve or reject every ticked payout, one service call each; report what happened."""
    queue_url = reverse("payouts_staff:queue")
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, str(message))
        return _back(request, queue_url)
    actor = _staff(request)
    ids: list[int] = form.cleaned_data["payouts"]
    approving = form.cleaned_data["action"] == BulkDecisionForm.APPROVE
    found = {payout.pk: payout for payout in Payout.objects.filter(pk__in=ids)}
    done: list[Payout] = []
    awaiting_second: list[Payout] = []
    errors: list[str] = []
    for payout_id in ids:
        payout = found.get(payout_id)
        if payout is None:
            errors.append(_("Payout #%(id)s: not found.") % {"id": payout_id})
            continue
        try:
            if approving:
                payout = payout_services.payout_approve(payout=payout, actor=actor)
            else:
                payout = payout_services.payout_reject(
                    payout=payout, actor=actor, reason=form.cleaned_data["reason"]
                )
        except (ValidationError, PermissionDenied) as error:
            errors.append(
                _("Payout #%(id)s: %(error)s") % {"id": payout_id, "error": _error_text(error)}
            )
            continue
        if approving and payout.status == PayoutStatus.REQUESTED:
            awaiting_second.append(payout)
        else:
            done.append(payout)
    _report_bulk(request, approving, done, awaiting_second, errors)
    return _back(request, queue_url)


def _ids(payouts: list[Payout]) -> str:
    return ", ".join(f"#{payout.pk}" for payout in payouts)


def _report_bulk(
    request: HttpRequest,
    approving: bool,
    done: list[Payout],
    awaiting_second: list[Payout],
    errors: list[str],
) -> None:
    if done:
        text = (
            ngettext(
                "Approved %(count)s payout: %(ids)s.",
                "Approved %(count)s payouts: %(ids)s.",
                len(done),
            )
            if approving
            else ngettext(
                "Rejected %(count)s payout: %(ids)s. The money is back in the creator's balance.",
                "Rejected %(count)s payouts: %(ids)s. The money is back in the creators' balances.",
                len(done),
            )
        )
        messages.success(request, text % {"count": len(done), "ids": _ids(done)})
    if awaiting_second:
        messages.info(
            request,
            ngettext(
                "Your approval is recorded; %(ids)s needs a second approval by another staff "
                "member.",
                "Your approval is recorded; %(ids)s need a second approval by another staff "
                "member.",
                len(awaiting_second),
            )
            % {"ids": _ids(awaiting_second)},
        )
    for error in errors:
        messages.error(request, error)


# --- one payout ---------------------------------------------------------------------------------


def _payout_or_404(payout_id: int) -> Payout:
    payout = payout_get(payout_id)
    if payout is None:
        raise Http404(_("No payout with this id."))
    return payout


def _can_reject(payout: Payout) -> bool:
    return payout.status == PayoutStatus.REQUESTED or (
        payout.status == PayoutStatus.APPROVED
        and payout.rail == PayoutRail.BANK
        and payout.bank_exported_at is None
    )


@never_cache
@require_GET
@staff_required
def payout_detail(request: HttpRequest, payout_id: int) -> HttpResponse:
    """One payout: its state and approvals, risk signals, the creator's balances, its ledger
    transactions and audit trail, and the decisions its state allows."""
    payout = _payout_or_404(payout_id)
    balances = creator_balances(payout.creator)
    return render(
        request,
        "payouts/staff/detail.html",
        {
            "staff_tab": "queue",
            "payout": payout,
            "risk": payout_risks([payout])[payout.pk],
            "approvals": payout_approvals(payout),
            "balances": sorted(balances.items()),
            "transactions": payout_ledger_transactions(payout),
            "audit_entries": payout_audit_trail(payout),
            "can_approve": payout.status == PayoutStatus.REQUESTED,
            "can_reject": _can_reject(payout),
            "can_settle_bank": payout.rail == PayoutRail.BANK
            and payout.status == PayoutStatus.APPROVED
            and payout.bank_exported_at is not None,
            "reject_form": RejectForm(),
            "paid_form": BankPaidForm(),
            "failed_form": BankFailedForm(),
        },
    )


@require_POST
@staff_required
def payout_approve_view(request: HttpRequest, payout_id: int) -> HttpResponse:
    payout = get_object_or_404(Payout, pk=payout_id)
    try:
        payout = payout_services.payout_approve(payout=payout, actor=_staff(request))
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    else:
        if payout.status == PayoutStatus.REQUESTED:
            messages.info(
                request,
                _("Your approval is recorded; another staff member must approve it as well."),
            )
        else:
            messages.success(request, _("Payout #%(id)s approved.") % {"id": payout.pk})
    return redirect("payouts_staff:detail", payout_id=payout_id)


@require_POST
@staff_required
def payout_reject_view(request: HttpRequest, payout_id: int) -> HttpResponse:
    payout = get_object_or_404(Payout, pk=payout_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for rejecting; the creator reads it."))
        return redirect("payouts_staff:detail", payout_id=payout_id)
    try:
        payout_services.payout_reject(
            payout=payout, actor=_staff(request), reason=form.cleaned_data["reason"]
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            _("Payout #%(id)s rejected; the money is back in the creator's balance.")
            % {"id": payout_id},
        )
    return redirect("payouts_staff:detail", payout_id=payout_id)


# --- the bank rail ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BankCurrencyGroup:
    currency: str
    payouts: list[Payout]
    to_export: list[Payout]
    to_export_minor: int
    exported: list[Payout]


@never_cache
@require_GET
@staff_required
def bank_payouts(request: HttpRequest) -> HttpResponse:
    """Approved bank payouts not paid yet, per currency: export the new ones as a SEPA file,
    then mark each exported one paid or failed as the bank reports."""
    groups = []
    for currency, payouts in bank_payouts_open().items():
        to_export = [payout for payout in payouts if payout.bank_exported_at is None]
        groups.append(
            BankCurrencyGroup(
                currency=currency,
                payouts=payouts,
                to_export=to_export,
                to_export_minor=sum(payout.amount_minor for payout in to_export),
                exported=[payout for payout in payouts if payout.bank_exported_at is not None],
            )
        )
    return render(
        request,
        "payouts/staff/bank.html",
        {
            "staff_tab": "bank",
            "groups": groups,
            "paid_form": BankPaidForm(),
            "failed_form": BankFailedForm(),
        },
    )


@require_POST
@staff_required
def bank_sepa_export(request: HttpRequest) -> HttpResponse:
    """Download the SEPA file of the currency's approved bank payouts not exported yet; they
    count as exported from now on."""
    bank_url = reverse("payouts_staff:bank")
    form = SepaExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a currency to export."))
        return redirect(bank_url)
    currency = form.cleaned_data["currency"]
    try:
        export = bank_payouts_export(currency=currency, actor=_staff(request))
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
        return redirect(bank_url)
    if export is not None:
        for payout, reason in export.skipped:
            messages.warning(
                request,
                _("Payout #%(id)s was left out of the file: %(reason)s. Check it and reject it.")
                % {"id": payout.pk, "reason": reason},
            )
    if export is None or not export.payouts:
        messages.info(request, _("No %(currency)s payout to export.") % {"currency": currency})
        return redirect(bank_url)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(export.xml, content_type="application/xml")
    response["Content-Disposition"] = (
        f'attachment; filename="connect-sepa-{currency.lower()}-{stamp}.xml"'
    )
    return response


@require_POST
@staff_required
def bank_mark_paid(request: HttpRequest, payout_id: int) -> HttpResponse:
    payout = get_object_or_404(Payout, pk=payout_id)
    form = BankPaidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the bank's reference for this transfer."))
        return _back(request, reverse("payouts_staff:bank"))
    try:
        payout_services.payout_bank_mark_paid(
            payout=payout, actor=_staff(request), reference=form.cleaned_data["reference"]
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Payout #%(id)s is paid.") % {"id": payout_id})
    return _back(request, reverse("payouts_staff:bank"))


@require_POST
@staff_required
def bank_mark_failed(request: HttpRequest, payout_id: int) -> HttpResponse:
    payout = get_object_or_404(Payout, pk=payout_id)
    form = BankFailedForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason; the creator will read it."))
        return _back(request, reverse("payouts_staff:bank"))
    try:
        payout_services.payout_bank_mark_failed(
            payout=payout, actor=_staff(request), reason=form.cleaned_data["reason"]
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            _("Payout #%(id)s failed; the money is back in the creator's balance.")
            % {"id": payout_id},
        )
    return _back(request, reverse("payouts_staff:bank"))


# --- reconciliation -----------------------------------------------------------------------------


@never_cache
@require_GET
@staff_required
def reconciliation_differences(request: HttpRequest) -> HttpResponse:
    """Open differences between Stripe's transfers and our payouts, oldest first."""
    return render(
        request,
        "payouts/staff/reconciliation.html",
        {
            "staff_tab": "reconciliation",
            "differences": reconciliation_differences_open(),
            "resolve_form": ResolveDifferenceForm(),
        },
    )


@require_POST
@staff_required
def reconciliation_difference_resolve_view(
    request: HttpRequest, difference_id: int
) -> HttpResponse:
    difference = get_object_or_404(ReconciliationDifference, pk=difference_id)
    form = ResolveDifferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what you found or did about this difference."))
        return redirect("payouts_staff:reconciliation")
    try:
        reconciliation_difference_resolve(
            difference=difference, actor=_staff(request), note=form.cleaned_data["note"]
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Difference resolved."))
    return redirect("payouts_staff:reconciliation")
