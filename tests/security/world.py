"""Two tenants side by side, seeded through the real services: the world the permission
matrix requests every URL against.

Tenant A and tenant B each have a creator and a brand that work together (a collaboration,
order events processed into commissions, a payout), the brand's team, API key, CSV upload
and a member invitation, and the creator's access token. Each tenant carries marker
strings that only its own people (and staff) may ever see.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Model, Q, QuerySet

from campaigns.api_keys import brand_api_key_create
from campaigns.models import (
    Brand,
    BrandApiKey,
    BrandInvitation,
    BrandMembership,
    BrandRole,
    Campaign,
    CampaignStatus,
    Collaboration,
)
from campaigns.services.brands import brand_member_invite
from connect.models import CreatorAccessToken, CreatorProfile, SocialAccount, User
from connect.tokens import creator_token_create
from payouts.csv_upload import csv_upload_create
from payouts.models import (
    CsvUpload,
    OrderEvent,
    Payout,
    PayoutAccount,
    ReconciliationDifference,
    ReconciliationKind,
)
from payouts.payout_accounts import bank_account_set
from payouts.payout_services import payout_request
from tests.campaigns.factories import (
    BrandFactory,
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
)
from tests.connect.factories import CreatorProfileFactory, UserFactory
from tests.payouts.factories import give_available
from tests.payouts.pipeline import event, send


@dataclass
class Tenant:
    """One side of the marketplace: a brand, its creator, and everything between them."""

    key: str
    creator: CreatorProfile
    owner: User
    second_member: BrandMembership
    brand: Brand
    campaign: Campaign
    draft_campaign: Campaign
    collaboration: Collaboration
    order_id: str
    api_key: BrandApiKey
    api_key_raw: str
    token: CreatorAccessToken
    token_raw: str
    csv_upload: CsvUpload
    invitation: BrandInvitation
    payout: Payout
    difference: ReconciliationDifference
    # Strings that appear only in this tenant's private data.
    markers: list[str] = field(default_factory=list)


@dataclass
class World:
    a: Tenant
    b: Tenant
    staff: User

    @property
    def tenants(self) -> list[Tenant]:
        return [self.a, self.b]

    def tenant(self, key: str) -> Tenant:
        return self.a if key == "A" else self.b


# Distinctive, private values per tenant: a commission of 10 % on the order amount, a
# payout amount, names nobody else types.
SEEDS: dict[str, dict[str, str]] = {
    "A": {
        "word": "alpha",
        "order_amount": "1234.50",
        "commission": "123.45",
        "payout_minor": "54321",
        "payout": "543.21",
    },
    "B": {
        "word": "bravo",
        "order_amount": "2468.20",
        "commission": "246.82",
        "payout_minor": "76542",
        "payout": "765.42",
    },
}


def _tenant(key: str) -> Tenant:
    seed = SEEDS[key]
    word = seed["word"]
    creator_email = f"creator.{word}@matrix-{word}.test"
    owner_email = f"owner.{word}@matrix-{word}.test"
    second_email = f"second.{word}@matrix-{word}.test"
    creator: CreatorProfile = CreatorProfileFactory.create(
        user__email=creator_email, handle=f"{word}_maker", display_name=f"{word.title()} Maker"
    )
    SocialAccount.objects.create(
        profile=creator,
        platform="instagram",
        handle=f"{word}_insta",
        url=f"https://www.instagram.com/{word}_insta/",
        follower_count=1500,
    )
    brand: Brand = BrandFactory.create(name=f"{word.title()} Goods", slug=f"{word}-goods")
    owner: User = BrandMembershipFactory.create(brand=brand, user__email=owner_email).user
    second_member: BrandMembership = BrandMembershipFactory.create(
        brand=brand, user__email=second_email, role=BrandRole.MANAGER
    )
    campaign: Campaign = CampaignFactory.create(brand=brand, title=f"{word.title()} spring sale")
    draft_campaign: Campaign = CampaignFactory.create(
        brand=brand,
        title=f"{word.title()} unreleased draft Q7",
        status=CampaignStatus.DRAFT,
        published_at=None,
    )
    collaboration: Collaboration = CollaborationFactory.create(
        campaign=campaign, creator=creator, discount_code=f"{word.upper()}SECRET7"
    )
    order_id = f"{word.upper()}-ORDER-9182"
    send(
        brand,
        event(
            f"{word}-e1",
            order_id=order_id,
            amount=seed["order_amount"],
            code=collaboration.discount_code,
        ),
    )
    api_key, api_key_raw = brand_api_key_create(
        brand=brand, actor=owner, name=f"{word.title()} warehouse connector"
    )
    token, token_raw = creator_token_create(
        creator=creator, actor=creator.user, name=f"{word.title()} earnings sheet"
    )
    csv_text = (
        "id,type,order_id,occurred_at,amount,currency,code,click_id\n"
        f"{word}-csv-1,order.paid,{word.upper()}-CSV-5531,2025-03-01T12:00:00Z,10.00,EUR,,\n"
    )
    csv_upload = csv_upload_create(
        brand=brand,
        actor=owner,
        uploaded_file=SimpleUploadedFile(
            f"{word}-ledger-export.csv", csv_text.encode(), content_type="text/csv"
        ),
    )
    invitation = brand_member_invite(
        brand=brand, actor=owner, email=f"invitee.{word}@matrix-{word}.test", role=BrandRole.MANAGER
    )
    bank_account_set(
        creator=creator,
        holder_name=f"{word.title()} Holdername",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        actor=None,
    )
    give_available(creator, 100_000)
    payout = payout_request(creator=creator, currency="EUR", amount_minor=int(seed["payout_minor"]))
    difference = ReconciliationDifference.objects.create(
        kind=ReconciliationKind.values[0],
        payout=payout,
        currency="EUR",
        expected_minor=int(seed["payout_minor"]),
        actual_minor=1,
        detail=f"{word} difference detail",
    )
    markers: list[str] = [
        creator_email,
        owner_email,
        second_email,
        draft_campaign.title,
        collaboration.discount_code or "",
        order_id,
        f"{word.upper()}-CSV-5531",
        api_key.name,
        token.name,
        csv_upload.file_name,
        f"{word.title()} Holdername",
        seed["commission"],
        seed["payout"],
    ]
    return Tenant(
        key=key,
        creator=creator,
        owner=owner,
        second_member=second_member,
        brand=brand,
        campaign=campaign,
        draft_campaign=draft_campaign,
        collaboration=collaboration,
        order_id=order_id,
        api_key=api_key,
        api_key_raw=api_key_raw,
        token=token,
        token_raw=token_raw,
        csv_upload=csv_upload,
        invitation=invitation,
        payout=payout,
        difference=difference,
        markers=markers,
    )


def world_seed() -> World:
    # Staff with a verified address: pages for creators send them on to onboarding, as
    # they would a brand member, instead of asking them to verify first.
    staff: User = UserFactory.create(email="staff@matrix-staff.test", is_staff=True, verified=True)
    return World(a=_tenant("A"), b=_tenant("B"), staff=staff)


# Touched by signing in or by using a credential, never by a write to the data.
VOLATILE_FIELDS = {"last_login", "last_used_at"}


WATCHED_TABLES = (
    "campaigns_brand",
    "campaigns_brandmembership",
    "campaigns_brandinvitation",
    "campaigns_campaign",
    "campaigns_collaboration",
    "campaigns_brandapikey",
    "payouts_csvupload",
    "payouts_orderevent",
    "connect_creatorprofile",
    "connect_socialaccount",
    "connect_user",
    "connect_creatoraccesstoken",
    "payouts_payoutaccount",
    "payouts_payout",
    "payouts_reconciliationdifference",
)


def rows_written() -> int:
    """Rows inserted, updated or deleted in the snapshot's tables so far in this
    transaction: when it has not moved, no snapshot needs taking."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
            " FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(WATCHED_TABLES)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _rows_hash(queryset: QuerySet[Any]) -> str:
    rows = [
        {k: v for k, v in row.items() if k not in VOLATILE_FIELDS}
        for row in queryset.order_by("pk").values()
    ]
    return hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()


def tenant_snapshot(tenant: Tenant, *, ignore_collaborations: Q | None = None) -> dict[str, str]:
    """A hash of each key table's rows that belong to the tenant: any write shows.

    `ignore_collaborations` leaves out collaborations a write may legitimately add to the
    tenant (another creator joining its active campaign).
    """
    brand = tenant.brand
    creator = tenant.creator
    collaborations = Collaboration.objects.filter(Q(brand=brand) | Q(creator=creator))
    if ignore_collaborations is not None:
        collaborations = collaborations.exclude(ignore_collaborations)
    tables: dict[str, QuerySet[Any]] = {
        "brand": Brand.objects.filter(pk=brand.pk),
        "membership": BrandMembership.objects.filter(brand=brand),
        "invitation": BrandInvitation.objects.filter(brand=brand),
        "campaign": Campaign.objects.filter(brand=brand),
        "collaboration": collaborations,
        "api_key": BrandApiKey.objects.filter(brand=brand),
        "csv_upload": CsvUpload.objects.filter(brand=brand),
        "order_event": OrderEvent.objects.filter(brand=brand),
        "creator": CreatorProfile.objects.filter(pk=creator.pk),
        "social_account": SocialAccount.objects.filter(profile=creator),
        "user": User.objects.filter(
            Q(pk=creator.user_id) | Q(brand_memberships__brand=brand)
        ).distinct(),
        "token": CreatorAccessToken.objects.filter(creator=creator),
        "payout_account": PayoutAccount.objects.filter(creator=creator),
        "payout": Payout.objects.filter(creator=creator),
        "difference": ReconciliationDifference.objects.filter(payout__creator=creator),
    }
    return {name: _rows_hash(queryset) for name, queryset in tables.items()}


def model_label(obj: Model) -> str:
    return f"{obj._meta.label}#{obj.pk}"
