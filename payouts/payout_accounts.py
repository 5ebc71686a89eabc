"""Creators' payout accounts: the Stripe connected account and the bank account.

- Stripe: `stripe_onboarding_start` creates the connected account once and hands out
  onboarding links; what the account can do is only ever learnt by fetching it from Stripe
  (`stripe_account_refresh` -> `stripe_account_sync`), never from the browser's return.
- Bank: `bank_account_set` checks the IBAN and BIC and stores the IBAN encrypted with a key
  derived from SECRET_KEY; `bank_iban_decrypt` reads it back for the SEPA file only.
- `payout_rail_set` chooses between them, once the chosen one is set up.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import stripe
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stripe.params import AccountCreateParams

from connect.audit import audit_record
from connect.models import CreatorProfile, User
from payouts.models import PayoutAccount, PayoutRail
from payouts.stripe_client import stripe_client


def _field(obj: Any, name: str) -> Any:
    """A field of a Stripe object or of a nested mapping, None when absent."""
    if isinstance(obj, stripe.StripeObject):
        obj = obj.to_dict()
    return obj.get(name) if isinstance(obj, dict) else None


@transaction.atomic
def stripe_account_sync(*, account: stripe.Account) -> PayoutAccount | None:
    """Copy what Stripe says of a connected account (fetched from Stripe, never taken from a
    browser redirect or an event body) onto our payout account. Unknown accounts: None."""
    payout_account = (
        PayoutAccount.objects.select_for_update().filter(stripe_account_id=account.id).first()
    )
    if payout_account is None:
        return None
    requirements = _field(account, "requirements") or {}
    before = {
        "payouts_enabled": payout_account.stripe_payouts_enabled,
        "transfers_active": payout_account.stripe_transfers_active,
        "requirements_due": list(payout_account.stripe_requirements_due),
    }
    payout_account.stripe_details_submitted = bool(_field(account, "details_submitted"))
    payout_account.stripe_payouts_enabled = bool(_field(account, "payouts_enabled"))
    payout_account.stripe_transfers_active = (
        _field(_field(account, "capabilities"), "transfers") == "active"
    )
    payout_account.stripe_requirements_due = list(_field(requirements, "currently_due") or [])
    payout_account.stripe_disabled_reason = str(_field(requirements, "disabled_reason") or "")
    payout_account.stripe_synced_at = timezone.now()
    payout_account.save()
    after = {
        "payouts_enabled": payout_account.stripe_payouts_enabled,
        "transfers_active": payout_account.stripe_transfers_active,
        "requirements_due": list(payout_account.stripe_requirements_due),
    }
    if after != before:
        audit_record(
            actor=None,
            action="payouts.payout_account.stripe_synced",
            target=payout_account,
            before=before,
            after=after,
        )
    return payout_account


# --- Stripe onboarding ------------------------------------------------------------------------

# What Stripe's `requirements.currently_due` codes ask of the creator, in their words. Codes not
# listed here are shown by their last part, made readable.
_REQUIREMENT_LABELS: dict[str, Any] = {
    "business_type": _lazy("Whether you are paid as an individual or a company"),
    "business_profile.url": _lazy("Your website or social profile"),
    "business_profile.mcc": _lazy("What you sell or promote"),
    "business_profile.product_description": _lazy("A description of what you do"),
    "external_account": _lazy("The bank account Stripe pays you out to"),
    "tos_acceptance.date": _lazy("Accepting Stripe's terms of service"),
    "tos_acceptance.ip": _lazy("Accepting Stripe's terms of service"),
    "individual.first_name": _lazy("Your first name"),
    "individual.last_name": _lazy("Your last name"),
    "individual.dob.day": _lazy("Your date of birth"),
    "individual.dob.month": _lazy("Your date of birth"),
    "individual.dob.year": _lazy("Your date of birth"),
    "individual.email": _lazy("Your email address"),
    "individual.phone": _lazy("Your phone number"),
    "individual.address.line1": _lazy("Your address"),
    "individual.address.city": _lazy("Your address"),
    "individual.address.postal_code": _lazy("Your address"),
    "individual.id_number": _lazy("Your national ID number"),
    "individual.verification.document": _lazy("An identity document"),
}


def stripe_requirement_labels(codes: list[str]) -> list[str]:
    """Stripe's requirement codes as the creator reads them, in order, without repeats."""
    labels: list[str] = []
    for code in codes:
        known = _REQUIREMENT_LABELS.get(code)
        label = str(known) if known is not None else code.rsplit(".", 1)[-1].replace("_", " ")
        label = label[:1].upper() + label[1:]
        if label not in labels:
            labels.append(label)
    return labels


def _account_create_params(creator: CreatorProfile) -> AccountCreateParams:
    return {
        "country": str(creator.country.code),
        "email": creator.user.email,
        "controller": {
            "fees": {"payer": "application"},
            "losses": {"payments": "application"},
            "stripe_dashboard": {"type": "express"},
            "requirement_collection": "stripe",
        },
        "capabilities": {"transfers": {"requested": True}},
        "metadata": {"creator_id": str(creator.pk)},
    }


def _payout_account_lock(creator: CreatorProfile, *, rail: str) -> PayoutAccount:
    """The creator's payout account, locked; made with `rail` when they have none yet.

    `get_or_create` under the one-to-one constraint: two first clicks at once end up with the
    same row (the loser of the insert race reads the winner's).
    """
    PayoutAccount.objects.get_or_create(creator=creator, defaults={"rail": rail})
    return PayoutAccount.objects.select_for_update().get(creator=creator)


def stripe_onboarding_start(
    *,
    creator: CreatorProfile,
    return_url: str,
    refresh_url: str,
    client: stripe.StripeClient | None = None,
) -> str:
    """Give the creator a Stripe connected account (once) and return a fresh onboarding link.

    The account is created under a lock on the payout account and with an idempotency key
    derived from the creator, so a double click, a second tab or a lost answer all end up with
    one account. Whether onboarding is complete is learnt later from Stripe itself.
    """
    client = client or stripe_client()
    with transaction.atomic():
        payout_account = _payout_account_lock(creator, rail=PayoutRail.STRIPE)
        if not payout_account.stripe_account_id:
            creator = CreatorProfile.objects.select_related("user").get(pk=creator.pk)
            account = client.v1.accounts.create(
                params=_account_create_params(creator),
                options={"idempotency_key": f"connect-creator-{creator.pk}-account"},
            )
            payout_account.stripe_account_id = account.id
            payout_account.save(update_fields=["stripe_account_id", "updated_at"])
            audit_record(
                actor=creator.user,
                action="payouts.payout_account.stripe_created",
                target=payout_account,
                after={"stripe_account_id": account.id},
            )
    return stripe_account_link_create(
        payout_account=payout_account,
        return_url=return_url,
        refresh_url=refresh_url,
        client=client,
    )


def stripe_account_link_create(
    *,
    payout_account: PayoutAccount,
    return_url: str,
    refresh_url: str,
    client: stripe.StripeClient | None = None,
) -> str:
    """A new single-use onboarding link for the account (links expire within minutes)."""
    if not payout_account.stripe_account_id:
        raise ValidationError(_("Connect with Stripe first."))
    client = client or stripe_client()
    link = client.v1.account_links.create(
        params={
            "account": payout_account.stripe_account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        }
    )
    return str(link.url)


def stripe_account_refresh(
    *, creator: CreatorProfile, client: stripe.StripeClient | None = None
) -> PayoutAccount | None:
    """Fetch the creator's connected account from Stripe and mirror it (the return from
    onboarding proves nothing by itself). None when they have no connected account."""
    payout_account = PayoutAccount.objects.filter(creator=creator).first()
    if payout_account is None or not payout_account.stripe_account_id:
        return None
    client = client or stripe_client()
    account = client.v1.accounts.retrieve(payout_account.stripe_account_id)
    return stripe_account_sync(account=account)


# --- the bank account -------------------------------------------------------------------------

# Fernet needs 32 random-looking bytes; they are derived from SECRET_KEY for this one purpose,
# so the IBANs cannot be read with the key of any other use of SECRET_KEY.
_BANK_KEY_CONTEXT = b"connect.payouts.bank_iban.v1"


def _fernet_for(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_BANK_KEY_CONTEXT).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _bank_cipher() -> MultiFernet:
    """Encrypts with the current SECRET_KEY; also decrypts what older keys
    (SECRET_KEY_FALLBACKS) encrypted, so a key rotation keeps stored IBANs readable."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(str(secret)) for secret in secrets])


def bank_iban_decrypt(payout_account: PayoutAccount) -> str:
    """The account's full IBAN (compact, no spaces), for the SEPA file only; never show it."""
    if not payout_account.bank_iban_encrypted:
        raise ValueError(f"Payout account {payout_account.pk} has no IBAN.")
    return _bank_cipher().decrypt(payout_account.bank_iban_encrypted.encode()).decode()


@dataclass(frozen=True)
class BankDetails:
    """A checked IBAN and BIC, compact and upper case."""

    iban: str
    bic: str
    country: str

    @property
    def iban_last4(self) -> str:
        return self.iban[-4:]


def bank_details_parse(*, iban: str, bic: str) -> BankDetails:
    """Check an IBAN (checksum, length, structure of its country) and a BIC, and that the BIC
    belongs to a bank in the IBAN's country. Raises ValidationError keyed by field."""
    errors: dict[str, str] = {}
    parsed_iban: IBAN | None = None
    parsed_bic: BIC | None = None
    try:
        parsed_iban = IBAN(iban or "")
    except SchwiftyException:
        errors["iban"] = _(
            "This is not a valid IBAN. Check it against your bank statement, e.g. "
            "DE89 3704 0044 0532 0130 00."
        )
    try:
        parsed_bic = BIC(bic or "")
    except SchwiftyException:
        errors["bic"] = _("This is not a valid BIC (8 or 11 characters, e.g. COBADEFFXXX).")
    if parsed_iban is not None and not parsed_iban.in_sepa_zone:
        errors["iban"] = _(
            "Bank transfers go out as SEPA transfers; this IBAN is outside the SEPA area. "
            "Connect with Stripe instead."
        )
    if (
        "iban" not in errors
        and parsed_iban is not None
        and parsed_bic is not None
        and parsed_iban.country_code != parsed_bic.country_code
    ):
        errors["bic"] = _(
            "This BIC belongs to a bank in %(bic_country)s but the IBAN is from %(iban_country)s. "
            "Use your bank's BIC for this account."
        ) % {"bic_country": parsed_bic.country_code, "iban_country": parsed_iban.country_code}
    if errors:
        raise ValidationError(errors)
    assert parsed_iban is not None and parsed_bic is not None
    return BankDetails(
        iban=str(parsed_iban.compact),
        bic=str(parsed_bic.compact),
        country=str(parsed_iban.country_code),
    )


def _bank_snapshot(payout_account: PayoutAccount) -> dict[str, Any]:
    """What the audit log records of the bank account: never the IBAN, only its last four."""
    return {
        "rail": payout_account.rail,
        "holder_name": payout_account.bank_holder_name,
        "iban_last4": payout_account.bank_iban_last4,
        "bic": payout_account.bank_bic,
        "country": payout_account.bank_country,
    }


@transaction.atomic
def bank_account_set(
    *, creator: CreatorProfile, holder_name: str, iban: str, bic: str, actor: User | None
) -> PayoutAccount:
    """Store the creator's bank account (the IBAN encrypted, its last four in clear).

    When the creator's current payout method is not set up (an onboarding they never
    finished), bank transfer becomes their method, since it is the one that works.
    """
    holder_name = " ".join((holder_name or "").split())
    if not holder_name:
        raise ValidationError({"holder_name": _("Enter the name the account is held in.")})
    details = bank_details_parse(iban=iban, bic=bic)
    payout_account = _payout_account_lock(creator, rail=PayoutRail.BANK)
    before = _bank_snapshot(payout_account)
    payout_account.bank_holder_name = holder_name[:140]
    payout_account.bank_iban_encrypted = _bank_cipher().encrypt(details.iban.encode()).decode()
    payout_account.bank_iban_last4 = details.iban_last4
    payout_account.bank_bic = details.bic
    payout_account.bank_country = details.country
    if not payout_account.ready:
        payout_account.rail = PayoutRail.BANK
    payout_account.save()
    audit_record(
        actor=actor,
        action="payouts.payout_account.bank_set",
        target=payout_account,
        before=before,
        after=_bank_snapshot(payout_account),
    )
    return payout_account


# --- the payout method --------------------------------------------------------------------------


@transaction.atomic
def payout_rail_set(*, creator: CreatorProfile, rail: str, actor: User | None) -> PayoutAccount:
    """Choose how the creator's next payouts go out; only a method that is set up can be
    chosen. Payouts already requested keep the method they were requested with."""
    if rail not in PayoutRail.values:
        raise ValidationError(_("Choose Stripe or bank transfer."))
    payout_account = PayoutAccount.objects.select_for_update().filter(creator=creator).first()
    if payout_account is None:
        raise ValidationError(_("Connect with Stripe or add a bank account first."))
    if payout_account.rail == rail:
        return payout_account
    if rail == PayoutRail.STRIPE and not payout_account.stripe_ready:
        raise ValidationError(
            _("Finish setting up your Stripe account before choosing it for your payouts.")
        )
    if rail == PayoutRail.BANK and not payout_account.bank_ready:
        raise ValidationError(_("Add your bank account before choosing bank transfer."))
    before = {"rail": payout_account.rail}
    payout_account.rail = rail
    payout_account.save(update_fields=["rail", "updated_at"])
    audit_record(
        actor=actor,
        action="payouts.payout_account.rail_set",
        target=payout_account,
        before=before,
        after={"rail": rail},
    )
    return payout_account
