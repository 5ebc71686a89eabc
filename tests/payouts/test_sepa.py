"""SEPA credit transfer files for bank payouts: the XML's structure and amounts, and the
export that records which payouts went into a file."""

from __future__ import annotations

import os
import threading
import time
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import pytest
import sepaxml
import xmlschema
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from connect.models import AuditEntry
from payouts import payout_services
from payouts.models import Payout, PayoutAccount, PayoutStatus
from payouts.payout_accounts import bank_account_set
from payouts.sepa import (
    SepaCreditor,
    SepaDebtor,
    bank_payouts_export,
    sepa_credit_transfer_xml,
    sepa_end_to_end_id,
)
from tests.payouts.test_staff_payouts import bank_creator, request_payout, staff_user

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
SCHEMA = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")
DEBTOR = SepaDebtor(name="Connect Marketplace", iban="DE02120300000000202051", bic="BYLADEM1001")
OLA_IBAN = "DE89370400440532013000"
BOB_IBAN = "FR1420041010050500013M02606"


def _text(node: ET.Element, path: str) -> str:
    found = node.find(path, NS)
    assert found is not None, path
    return found.text or ""


@pytest.fixture
def debtor(settings: Any) -> None:
    settings.PAYOUT_SEPA_DEBTOR_NAME = DEBTOR.name
    settings.PAYOUT_SEPA_DEBTOR_IBAN = DEBTOR.iban
    settings.PAYOUT_SEPA_DEBTOR_BIC = DEBTOR.bic


@pytest.fixture
def approved() -> list[Payout]:
    """Two approved bank payouts in EUR: 123.45 to Ola (DE), 60.00 to Bob (FR)."""
    staff = staff_user()
    ola = bank_creator(iban=OLA_IBAN, handle="ola_bank")
    bob = bank_creator(iban=BOB_IBAN, bic="PSSTFRPPXXX", handle="bob_bank")
    payouts = [request_payout(ola, 12345), request_payout(bob, 6000)]
    return [payout_services.payout_approve(payout=payout, actor=staff) for payout in payouts]


@pytest.mark.django_db
def test_the_file_pays_each_payout_to_its_creditor_and_passes_the_schema(
    approved: list[Payout],
) -> None:
    # given
    ola_payout, bob_payout = approved

    # when
    xml = sepa_credit_transfer_xml(approved, DEBTOR)

    # then: valid pain.001.001.03
    xmlschema.XMLSchema(SCHEMA).validate(xml.decode())
    root = ET.fromstring(xml)  # noqa: S314 - our own file, not untrusted input
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert _text(header, "p:NbOfTxs") == "2"
    assert Decimal(_text(header, "p:CtrlSum")) == Decimal("183.45")
    assert _text(header, "p:InitgPty/p:Nm") == "Connect Marketplace"
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info is not None
    assert _text(info, "p:PmtMtd") == "TRF"
    assert _text(info, "p:NbOfTxs") == "2"
    assert Decimal(_text(info, "p:CtrlSum")) == Decimal("183.45")
    assert _text(info, "p:DbtrAcct/p:Id/p:IBAN") == DEBTOR.iban
    assert _text(info, "p:DbtrAgt/p:FinInstnId/p:BIC") == DEBTOR.bic
    transfers = {_text(tx, "p:PmtId/p:EndToEndId"): tx for tx in info.findall("p:CdtTrfTxInf", NS)}
    assert set(transfers) == {f"CONNECT-PAYOUT-{ola_payout.pk}", f"CONNECT-PAYOUT-{bob_payout.pk}"}
    ola_tx = transfers[sepa_end_to_end_id(ola_payout)]
    assert _text(ola_tx, "p:Amt/p:InstdAmt") == "123.45"
    amount = ola_tx.find("p:Amt/p:InstdAmt", NS)
    assert amount is not None and amount.get("Ccy") == "EUR"
    assert _text(ola_tx, "p:CdtrAcct/p:Id/p:IBAN") == OLA_IBAN
    assert _text(ola_tx, "p:Cdtr/p:Nm") == "Ola Nowak"
    assert _text(ola_tx, "p:CdtrAgt/p:FinInstnId/p:BIC") == "COBADEFFXXX"
    assert _text(ola_tx, "p:RmtInf/p:Ustrd") == f"Connect payout {ola_payout.pk}"
    bob_tx = transfers[sepa_end_to_end_id(bob_payout)]
    assert _text(bob_tx, "p:Amt/p:InstdAmt") == "60.00"
    assert _text(bob_tx, "p:CdtrAcct/p:Id/p:IBAN") == BOB_IBAN
    assert _text(bob_tx, "p:CdtrAgt/p:FinInstnId/p:BIC") == "PSSTFRPPXXX"


def test_one_file_pays_one_currency() -> None:
    # given
    payouts = [
        Payout(pk=1, currency="EUR", amount_minor=5000),
        Payout(pk=2, currency="PLN", amount_minor=20000),
    ]
    creditors = {
        1: SepaCreditor(name="Ola", iban=OLA_IBAN, bic=""),
        2: SepaCreditor(name="Bob", iban=BOB_IBAN, bic=""),
    }

    # when / then
    with pytest.raises(ValueError, match="One SEPA file pays one currency"):
        sepa_credit_transfer_xml(payouts, DEBTOR, creditors)


def test_a_file_without_creditor_bics_still_passes_the_schema() -> None:
    # given
    payouts = [Payout(pk=7, currency="EUR", amount_minor=1)]

    # when
    xml = sepa_credit_transfer_xml(
        payouts, DEBTOR, {7: SepaCreditor(name="Zoë Łódź", iban=OLA_IBAN, bic="")}
    )

    # then
    xmlschema.XMLSchema(SCHEMA).validate(xml.decode())
    tx = ET.fromstring(xml).find(".//p:CdtTrfTxInf", NS)  # noqa: S314 - our own file
    assert tx is not None
    assert _text(tx, "p:Amt/p:InstdAmt") == "0.01"
    assert _text(tx, "p:Cdtr/p:Nm") == "Zoe Lodz"
    assert tx.find("p:CdtrAgt", NS) is None


@pytest.mark.django_db
def test_the_export_records_each_payout_once(debtor: None, approved: list[Payout]) -> None:
    # given
    staff = staff_user("Grace")

    # when
    first = bank_payouts_export(currency="EUR", actor=staff)
    second = bank_payouts_export(currency="EUR", actor=staff)

    # then
    assert first is not None
    assert [payout.pk for payout in first.payouts] == [payout.pk for payout in approved]
    assert first.skipped == []
    assert b"<NbOfTxs>2</NbOfTxs>" in first.xml
    assert second is None
    assert all(
        payout.bank_exported_at is not None and payout.status == PayoutStatus.APPROVED
        for payout in Payout.objects.filter(pk__in=[p.pk for p in approved])
    )


@pytest.mark.django_db
def test_a_payout_whose_bank_account_changed_since_the_request_is_left_out(
    debtor: None, approved: list[Payout]
) -> None:
    # given: Bob changed his IBAN after asking for his payout
    ola_payout, bob_payout = approved
    bank_account_set(
        creator=bob_payout.creator,
        holder_name="Bob Martin",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPPXXX",
        actor=None,
    )

    # when
    export = bank_payouts_export(currency="EUR", actor=staff_user("Grace"))

    # then
    assert export is not None
    assert [payout.pk for payout in export.payouts] == [ola_payout.pk]
    assert [(payout.pk, reason) for payout, reason in export.skipped] == [
        (bob_payout.pk, "the creator changed their bank account since")
    ]
    assert b"FR76" not in export.xml and BOB_IBAN.encode() not in export.xml
    assert Payout.objects.get(pk=bob_payout.pk).bank_exported_at is None


@pytest.mark.django_db
def test_a_file_failing_the_schema_exports_nothing(
    settings: Any, debtor: None, approved: list[Payout]
) -> None:
    # given
    settings.PAYOUT_SEPA_DEBTOR_IBAN = "NOT AN IBAN"

    # when
    with pytest.raises(ValidationError, match="schema check"):
        bank_payouts_export(currency="EUR", actor=staff_user("Grace"))

    # then
    assert Payout.objects.filter(bank_exported_at__isnull=False).count() == 0


@pytest.mark.django_db
def test_only_staff_export(debtor: None, approved: list[Payout]) -> None:
    # given
    creator_user = PayoutAccount.objects.select_related("creator__user").first()
    assert creator_user is not None

    # when / then
    with pytest.raises(PermissionDenied):
        bank_payouts_export(currency="EUR", actor=creator_user.creator.user)
    assert Payout.objects.filter(bank_exported_at__isnull=False).count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_exports_at_once_put_each_payout_in_one_file(
    debtor: None, approved: list[Payout]
) -> None:
    # given: one export holds its payouts, uncommitted, while a second one starts
    staff = staff_user("Grace")
    first_built = threading.Event()
    results: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = bank_payouts_export(currency="EUR", actor=staff)
                first_built.set()
                time.sleep(0.5)
        finally:
            first_built.set()
            connection.close()

    def second() -> None:
        first_built.wait(timeout=10)
        try:
            results["second"] = bank_payouts_export(currency="EUR", actor=staff)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then: the second waited for the first and found nothing left to export
    assert [payout.pk for payout in results["first"].payouts] == [p.pk for p in approved]
    assert results["second"] is None
    assert AuditEntry.objects.filter(action="payouts.payout.bank_exported").count() == 2
