"""SEPA credit transfer files (pain.001.001.03) for bank-rail payouts.

Staff download one file per currency with every approved bank payout not exported yet, upload
it to the platform's bank, and later mark each payout paid or failed. A payout goes into one
file only: the export locks the payouts and records the export in the same transaction, so a
second download made at the same moment finds nothing left to export.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaSchemaError

from connect.models import User
from payouts.models import Payout, PayoutAccount, PayoutRail, PayoutStatus
from payouts.payout_accounts import bank_iban_decrypt
from payouts.payout_services import payout_bank_mark_exported


@dataclass(frozen=True)
class SepaDebtor:
    """The platform's own account the transfers are paid from."""

    name: str
    iban: str
    bic: str


@dataclass(frozen=True)
class SepaCreditor:
    """One transfer's receiving account, as the creator's payout account holds it now."""

    name: str
    iban: str
    bic: str


@dataclass
class SepaExport:
    """A built file, the payouts in it, and those left out with the reason why."""

    xml: bytes
    payouts: list[Payout]
    skipped: list[tuple[Payout, str]] = field(default_factory=list)


def sepa_debtor_from_settings() -> SepaDebtor:
    return SepaDebtor(
        name=getattr(settings, "PAYOUT_SEPA_DEBTOR_NAME", "Connect Marketplace"),
        iban=getattr(settings, "PAYOUT_SEPA_DEBTOR_IBAN", ""),
        bic=getattr(settings, "PAYOUT_SEPA_DEBTOR_BIC", ""),
    )


def sepa_end_to_end_id(payout: Payout) -> str:
    """The id the bank returns with the transfer (at most 35 characters), naming the payout."""
    return f"CONNECT-PAYOUT-{payout.pk}"


def sepa_credit_transfer_xml(
    payouts: list[Payout],
    debtor: SepaDebtor,
    creditors: dict[int, SepaCreditor] | None = None,
    execution_date: dt.date | None = None,
) -> bytes:
    """A pain.001.001.03 credit transfer file paying each payout from the debtor's account,
    checked against the schema. `creditors` maps payout ids to the receiving accounts; by
    default they are read (and the IBANs decrypted) from the creators' payout accounts."""
    if not payouts:
        raise ValueError("A SEPA file needs at least one payout.")
    currencies = {payout.currency for payout in payouts}
    if len(currencies) != 1:
        raise ValueError(f"One SEPA file pays one currency, not {sorted(currencies)}.")
    creditors = creditors if creditors is not None else _creditors(payouts)
    missing = [payout.pk for payout in payouts if payout.pk not in creditors]
    if missing:
        raise ValueError(f"No bank account to pay payouts {missing}.")
    config = {
        "name": debtor.name,
        "IBAN": debtor.iban,
        "BIC": debtor.bic,
        "batch": True,
        "currency": currencies.pop(),
    }
    if not debtor.bic:
        del config["BIC"]
    transfer = SepaTransfer(config, schema="pain.001.001.03", clean=True)
    when = execution_date or timezone.localdate()
    for payout in payouts:
        creditor = creditors[payout.pk]
        payment: dict[str, object] = {
            "name": creditor.name,
            "IBAN": creditor.iban,
            "amount": payout.amount_minor,
            "execution_date": when,
            "description": f"Connect payout {payout.pk}",
            "endtoend_id": sepa_end_to_end_id(payout),
        }
        if creditor.bic:
            payment["BIC"] = creditor.bic
        transfer.add_payment(payment)
    xml: bytes = transfer.export(validate=True)
    return xml


def _creditors(payouts: list[Payout]) -> dict[int, SepaCreditor]:
    accounts = {
        account.creator_id: account
        for account in PayoutAccount.objects.filter(
            creator_id__in={payout.creator_id for payout in payouts}
        )
    }
    creditors: dict[int, SepaCreditor] = {}
    for payout in payouts:
        account = accounts.get(payout.creator_id)
        if account is None or not account.bank_iban_encrypted:
            continue
        creditors[payout.pk] = SepaCreditor(
            name=account.bank_holder_name or payout.bank_holder_name,
            iban=bank_iban_decrypt(account),
            bic=account.bank_bic,
        )
    return creditors


@transaction.atomic
def bank_payouts_export(*, currency: str, actor: User) -> SepaExport | None:
    """Build the SEPA file for every approved bank payout in the currency not exported yet,
    and record the export (staff only). None when there is nothing to export.

    A payout whose creator changed their bank account after requesting it (the IBAN's last
    four no longer match what the payout recorded) is left out: staff should check it and
    reject it rather than pay an account the creator did not ask for.
    """
    if not (actor.is_authenticated and actor.is_staff and actor.is_active):
        raise PermissionDenied(_("Only staff can do this."))
    debtor = sepa_debtor_from_settings()
    if not debtor.iban:
        raise ValidationError(
            _("The platform's bank account is not configured (PAYOUT_SEPA_DEBTOR_IBAN).")
        )
    candidates = list(
        Payout.objects.select_for_update()
        .filter(
            rail=PayoutRail.BANK,
            status=PayoutStatus.APPROVED,
            currency=currency.upper(),
            bank_exported_at__isnull=True,
        )
        .order_by("approved_at", "pk")
    )
    if not candidates:
        return None
    creditors = _creditors(candidates)
    included: list[Payout] = []
    skipped: list[tuple[Payout, str]] = []
    for payout in candidates:
        creditor = creditors.get(payout.pk)
        if creditor is None:
            skipped.append((payout, _("the creator has no bank account any more")))
        elif creditor.iban[-4:] != payout.bank_iban_last4:
            skipped.append((payout, _("the creator changed their bank account since")))
        else:
            included.append(payout)
    if not included:
        return SepaExport(xml=b"", payouts=[], skipped=skipped)
    payout_bank_mark_exported(payouts=included, actor=actor)
    try:
        xml = sepa_credit_transfer_xml(included, debtor, creditors)
    except SepaSchemaError as error:
        # Rolls the export back with the transaction: the payouts stay ready to export.
        raise ValidationError(
            _("The SEPA file did not pass the schema check: %(error)s") % {"error": error}
        ) from error
    return SepaExport(xml=xml, payouts=included, skipped=skipped)
