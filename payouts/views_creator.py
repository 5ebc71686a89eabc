"""The creator side of payouts: balances and payout requests, and the payout settings (Stripe
onboarding, the bank account, the payout method). Views validate with forms and call services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connect.forms import apply_service_errors
from connect.models import CreatorProfile
from connect.money import format_money, from_minor
from connect.permissions import creator_required
from payouts.forms_payouts import BankAccountForm, PayoutRailForm, PayoutRequestForm
from payouts.models import LedgerAccountKind, Payout, PayoutAccount, PayoutRail
from payouts.payout_accounts import (
    bank_account_set,
    payout_rail_set,
    stripe_account_link_create,
    stripe_account_refresh,
    stripe_onboarding_start,
    stripe_requirement_labels,
)
from payouts.payout_services import payout_minimum_minor, payout_request
from payouts.selectors import creator_balances

logger = logging.getLogger(__name__)

PAYOUTS_PAGE_SIZE = 20
STRIPE_CONNECT_ORIGIN = "https://connect.stripe.com"


def _creator(request: HttpRequest) -> CreatorProfile:
    return request.user.creator_profile  # type: ignore[union-attr]


def _payout_account(creator: CreatorProfile) -> PayoutAccount | None:
    return PayoutAccount.objects.filter(creator=creator).first()


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


# ---------------------------------------------------------------------------- balances


@dataclass(frozen=True)
class BalanceCard:
    """One currency of the creator's money, and the form to ask for it."""

    currency: str
    available_minor: int
    pending_minor: int
    in_flight_minor: int
    paid_out_minor: int
    minimum_minor: int
    form: PayoutRequestForm

    @property
    def below_minimum(self) -> bool:
        return self.available_minor < self.minimum_minor


def _balance_cards(
    creator: CreatorProfile, bound: PayoutRequestForm | None = None
) -> list[BalanceCard]:
    cards = []
    for currency, kinds in sorted(creator_balances(creator).items()):
        available = kinds.get(LedgerAccountKind.CREATOR_AVAILABLE, 0)
        if bound is not None and bound.data.get("currency", "").upper() == currency:
            form = bound
        else:
            form = PayoutRequestForm(
                currencies=[currency],
                initial={"currency": currency, "amount": from_minor(max(available, 0), currency)},
                auto_id=f"id_{currency.lower()}_%s",
            )
        cards.append(
            BalanceCard(
                currency=currency,
                available_minor=available,
                pending_minor=kinds.get(LedgerAccountKind.CREATOR_PENDING, 0),
                in_flight_minor=kinds.get(LedgerAccountKind.CREATOR_IN_FLIGHT, 0),
                paid_out_minor=kinds.get(LedgerAccountKind.CREATOR_PAID_OUT, 0),
                minimum_minor=payout_minimum_minor(currency),
                form=form,
            )
        )
    return cards


def _creator_payouts(creator: CreatorProfile) -> QuerySet[Payout]:
    """The creator's own payouts, newest first (served by the (creator, -requested_at) index)."""
    return Payout.objects.filter(creator=creator).order_by("-requested_at", "-pk")


@creator_required
@require_http_methods(["GET", "POST"])
def payouts_home(request: HttpRequest) -> HttpResponse:
    """Balances per currency with a payout request form each, and the payouts so far."""
    creator = _creator(request)
    bound: PayoutRequestForm | None = None
    if request.method == "POST":
        bound = PayoutRequestForm(
            request.POST,
            currencies=sorted(creator_balances(creator)),
            auto_id=f"id_{request.POST.get('currency', '').lower()[:3]}_%s",
        )
        if bound.is_valid():
            try:
                payout = payout_request(
                    creator=creator,
                    currency=bound.cleaned_data["currency"],
                    amount_minor=bound.cleaned_data["amount_minor"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as error:
                bound.add_error(None, _error_text(error))
            else:
                messages.success(
                    request,
                    _("Payout of %(amount)s requested. We will email you as it moves along.")
                    % {"amount": format_money(payout.amount_minor, payout.currency)},
                )
                return redirect("payouts_creator:home")
    cards = _balance_cards(creator, bound)
    # A request for a currency without a card (tampered with, or no earnings there): its
    # errors go above the cards.
    stray_form = bound if bound is not None and all(c.form is not bound for c in cards) else None
    payout_account = _payout_account(creator)
    page = Paginator(_creator_payouts(creator), PAYOUTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payouts/creator/payouts.html",
        {
            "creator": creator,
            "cards": cards,
            "stray_form": stray_form,
            "payout_account": payout_account,
            "account_ready": payout_account is not None and payout_account.ready,
            "bank_currencies": list(settings.PAYOUT_BANK_CURRENCIES),
            "page": page,
        },
        status=400 if bound is not None and bound.errors else 200,
    )


# ---------------------------------------------------------------------------- settings


def _return_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("payouts_creator:stripe_return"))


def _refresh_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("payouts_creator:stripe_refresh"))


def _render_settings(
    request: HttpRequest,
    *,
    bank_form: BankAccountForm | None = None,
    template: str = "payouts/creator/settings.html",
    status: int = 200,
) -> HttpResponse:
    creator = _creator(request)
    payout_account = _payout_account(creator)
    if bank_form is None:
        bank_form = BankAccountForm(
            initial={
                "holder_name": (payout_account and payout_account.bank_holder_name)
                or creator.display_name,
                "bic": payout_account.bank_bic if payout_account is not None else "",
            }
        )
    requirements = (
        stripe_requirement_labels(list(payout_account.stripe_requirements_due))
        if payout_account is not None
        else []
    )
    response = render(
        request,
        template,
        {
            "payout_account": payout_account,
            "stripe_requirements": requirements,
            "bank_form": bank_form,
            "rail_choices": PayoutRail.choices,
            "bank_currencies": list(settings.PAYOUT_BANK_CURRENCIES),
        },
        status=status,
    )
    # "Connect with Stripe" posts here and is redirected to Stripe's onboarding: the CSP's
    # form-action must allow that redirect's origin, for this page only.
    response._csp_update = {"form-action": [_stripe_onboarding_origin()]}  # type: ignore[attr-defined]
    return response


def _stripe_onboarding_origin() -> str:
    """Where Stripe's account links point: Stripe's Connect site, or the server named by
    STRIPE_API_BASE (the Stripe-compatible server in tests and local runs)."""
    base = urlsplit(settings.STRIPE_API_BASE or STRIPE_CONNECT_ORIGIN)
    return f"{base.scheme}://{base.netloc}"


@creator_required
@require_GET
def payout_settings(request: HttpRequest) -> HttpResponse:
    """How the creator gets paid: Stripe, a bank account, and which one payouts use."""
    return _render_settings(request)


@creator_required
@require_POST
def stripe_connect(request: HttpRequest) -> HttpResponse:
    """Create the creator's Stripe account (once) and send the browser to Stripe's onboarding."""
    try:
        url = stripe_onboarding_start(
            creator=_creator(request),
            return_url=_return_url(request),
            refresh_url=_refresh_url(request),
        )
    except stripe.StripeError as error:
        logger.warning("Stripe onboarding could not start: %s", error)
        messages.error(request, _("Stripe is not answering right now. Please try again shortly."))
        return redirect("payouts_creator:settings")
    return redirect(url)


@creator_required
@require_GET
def stripe_return(request: HttpRequest) -> HttpResponse:
    """Back from Stripe's onboarding: ask Stripe what the account can do now (coming back
    proves nothing) and say what is still missing, or that payouts are enabled."""
    try:
        payout_account = stripe_account_refresh(creator=_creator(request))
    except stripe.StripeError as error:
        logger.warning("Stripe account could not be fetched: %s", error)
        messages.error(
            request,
            _("We could not reach Stripe to check your account; what you see may be out of date."),
        )
    else:
        if payout_account is None:
            return redirect("payouts_creator:settings")
    return _render_settings(request, template="payouts/creator/stripe_return.html")


@creator_required
@require_GET
def stripe_refresh(request: HttpRequest) -> HttpResponse:
    """Stripe sends the browser here when an onboarding link expired or was used: hand out a
    new one."""
    payout_account = _payout_account(_creator(request))
    if payout_account is None or not payout_account.stripe_account_id:
        return redirect("payouts_creator:settings")
    try:
        url = stripe_account_link_create(
            payout_account=payout_account,
            return_url=_return_url(request),
            refresh_url=_refresh_url(request),
        )
    except stripe.StripeError as error:
        logger.warning("Stripe account link could not be made: %s", error)
        messages.error(request, _("Stripe is not answering right now. Please try again shortly."))
        return redirect("payouts_creator:settings")
    return redirect(url)


@creator_required
@require_POST
def bank_account_save(request: HttpRequest) -> HttpResponse:
    form = BankAccountForm(request.POST)
    if form.is_valid():
        try:
            payout_account = bank_account_set(
                creator=_creator(request),
                holder_name=form.cleaned_data["holder_name"],
                iban=form.cleaned_data["iban"],
                bic=form.cleaned_data["bic"],
                actor=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Bank account ending in %(last4)s saved.")
                % {"last4": payout_account.bank_iban_last4},
            )
            return redirect("payouts_creator:settings")
    return _render_settings(request, bank_form=form, status=400)


@creator_required
@require_POST
def payout_rail_save(request: HttpRequest) -> HttpResponse:
    form = PayoutRailForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose Stripe or bank transfer."))
        return redirect("payouts_creator:settings")
    try:
        payout_account = payout_rail_set(
            creator=_creator(request),
            rail=form.cleaned_data["rail"],
            actor=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            _("Payout method changed to: %(method)s.")
            % {"method": payout_account.get_rail_display()},
        )
    return redirect("payouts_creator:settings")
