"""The earnings read API: GET /api/v1/commissions and GET /api/v1/orders/<order_id>.

Data comes through the real pipeline (ingest, then processing), as a brand's events would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.api_keys import brand_api_key_create
from campaigns.models import Brand, Campaign, Collaboration
from payouts.api_read import Cursor
from payouts.models import Commission, Order
from payouts.processing import commissions_mature
from tests.campaigns.factories import CampaignFactory, CollaborationFactory
from tests.connect.factories import CreatorProfileFactory, UserFactory
from tests.payouts.pipeline import code_of, event, send

pytestmark = pytest.mark.django_db

COMMISSIONS = "/api/v1/commissions"
# A well-formed click id from 2024 that no stored click has (and too old to be on its way).
UNKNOWN_CLICK = "0192f1a4-7b3c-7d2e-8f00-0123456789ab"


def key_for(brand: Brand) -> str:
    return brand_api_key_create(brand=brand, actor=None, name="Shop")[1]


def get(client: Client, url: str, key: str | None = None, **params: Any) -> Any:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return client.get(url, params, headers=headers)


def rfc(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def commission_of(order_id: str, brand: Brand) -> Commission:
    return Commission.objects.get(order__brand=brand, order__order_id=order_id, amount_minor__gt=0)


@pytest.fixture
def campaign() -> Campaign:
    return CampaignFactory(title="Spring")


@pytest.fixture
def ola(campaign: Campaign) -> Collaboration:
    return CollaborationFactory(campaign=campaign, creator=CreatorProfileFactory(handle="Ola"))


@pytest.fixture
def ben(campaign: Campaign) -> Collaboration:
    return CollaborationFactory(campaign=campaign, creator=CreatorProfileFactory(handle="ben"))


@pytest.fixture
def key(campaign: Campaign) -> str:
    return key_for(campaign.brand)


# ---------------------------------------------------------------------------------------
# Who sees what


def test_a_brand_key_lists_its_commissions_with_every_field(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given
    send(campaign.brand, event("p1", order_id="A-1", amount="129.99", code=code_of(ola)))
    commission = commission_of("A-1", campaign.brand)

    # when
    response = get(client, COMMISSIONS, key)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": commission.pk,
                "order_id": "A-1",
                "campaign": {"id": campaign.pk, "title": "Spring"},
                "creator": {"handle": "Ola"},
                "status": "pending",
                "amount": "13.00",  # 10 % of 129.99 = 12.999, half-up to the cent
                "net_amount": "129.99",
                "currency": "EUR",
                "payable_at": rfc(commission.payable_at),
                "approved_at": None,
                "budget_note": "",
                "created_at": rfc(commission.created_at),
                "updated_at": rfc(commission.updated_at),
            }
        ],
    }
    assert commission.payable_at is not None


def test_a_brand_key_never_sees_another_brands_commissions(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given the same creator earns from two brands, with the same order id at both
    other = CollaborationFactory(creator=ola.creator)
    send(campaign.brand, event("p1", order_id="A-1", code=code_of(ola)))
    send(other.brand, event("p1", order_id="A-1", code=code_of(other)))
    mine = commission_of("A-1", campaign.brand)
    theirs = commission_of("A-1", other.brand)

    # when
    listed = ids(get(client, COMMISSIONS, key))
    listed_by_other = ids(get(client, COMMISSIONS, key_for(other.brand)))

    # then
    assert listed == [mine.pk]
    assert listed_by_other == [theirs.pk]


def test_a_creator_sees_only_their_own_commissions_across_brands(
    client: Client, campaign: Campaign, ola: Collaboration, ben: Collaboration
) -> None:
    # given Ola earns at two brands, Ben at one
    other = CollaborationFactory(creator=ola.creator)
    send(
        campaign.brand,
        event("p1", order_id="A-1", code=code_of(ola)),
        event("p2", order_id="A-2", code=code_of(ben)),
    )
    send(other.brand, event("p1", order_id="B-1", code=code_of(other)))
    client.force_login(ola.creator.user)

    # when
    listed = ids(get(client, COMMISSIONS))

    # then
    assert sorted(listed) == sorted(
        [commission_of("A-1", campaign.brand).pk, commission_of("B-1", other.brand).pk]
    )


def test_without_credentials_the_list_answers_401_saying_how_to_authenticate(
    client: Client,
) -> None:
    # when
    response = get(client, COMMISSIONS)

    # then
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert "Authorization: Bearer ck_live_" in body["errors"]["detail"][0]


def test_a_wrong_key_answers_401(client: Client) -> None:
    # when
    response = get(client, COMMISSIONS, "ck_live_abcdefgh_" + "x" * 43)

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("is_staff", [False, True])
def test_a_logged_in_user_who_is_not_a_creator_gets_403_even_staff(
    client: Client, campaign: Campaign, ola: Collaboration, is_staff: bool
) -> None:
    # given
    send(campaign.brand, event("p1", order_id="A-1", code=code_of(ola)))
    user = UserFactory(verified=True, is_staff=is_staff, is_superuser=is_staff)
    client.force_login(user)

    # when
    response = get(client, COMMISSIONS)

    # then
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# ---------------------------------------------------------------------------------------
# Filters


@pytest.fixture
def three_orders(
    campaign: Campaign, ola: Collaboration, ben: Collaboration
) -> dict[str, Commission]:
    """A-1 (Ola, Spring), A-2 (Ben, Spring, cancelled: void), A-3 (Ola, Summer, with a
    longer hold)."""
    summer = CollaborationFactory(
        campaign=CampaignFactory(brand=campaign.brand, title="Summer", hold_days=60),
        creator=ola.creator,
    )
    send(
        campaign.brand,
        event("p1", order_id="A-1", code=code_of(ola)),
        event("p2", order_id="A-2", code=code_of(ben)),
        event("c2", "order.cancelled", order_id="A-2"),
        event("p3", order_id="A-3", code=code_of(summer)),
    )
    return {
        order.order_id: Commission.objects.get(order=order)
        for order in Order.objects.filter(brand=campaign.brand)
    }


def test_the_list_filters_by_campaign(
    client: Client, key: str, campaign: Campaign, three_orders: dict[str, Commission]
) -> None:
    # when
    listed = ids(get(client, COMMISSIONS, key, campaign=campaign.pk))

    # then
    assert sorted(listed) == sorted([three_orders["A-1"].pk, three_orders["A-2"].pk])


def test_a_brand_filters_by_creator_handle_in_any_case(
    client: Client, key: str, three_orders: dict[str, Commission]
) -> None:
    # when
    listed = ids(get(client, COMMISSIONS, key, creator="@OLA"))

    # then
    assert sorted(listed) == sorted([three_orders["A-1"].pk, three_orders["A-3"].pk])


def test_the_list_filters_by_status(
    client: Client, key: str, three_orders: dict[str, Commission]
) -> None:
    # given A-1's hold passes
    commissions_mature(now=three_orders["A-1"].payable_at)

    # when
    void = get(client, COMMISSIONS, key, status="void").json()["results"]
    approved = get(client, COMMISSIONS, key, status="approved").json()["results"]
    pending = ids(get(client, COMMISSIONS, key, status="pending"))

    # then
    assert [(c["order_id"], c["status"], c["amount"]) for c in void] == [("A-2", "void", "0.00")]
    assert [(c["order_id"], c["status"]) for c in approved] == [("A-1", "approved")]
    assert approved[0]["approved_at"] == rfc(three_orders["A-1"].payable_at)
    assert pending == [three_orders["A-3"].pk]


def test_combined_filters_and_a_campaign_of_another_brand_find_nothing_more(
    client: Client, key: str, campaign: Campaign, three_orders: dict[str, Commission]
) -> None:
    # given
    foreign = CampaignFactory()

    # when
    both = ids(get(client, COMMISSIONS, key, campaign=campaign.pk, creator="ola"))
    none = ids(get(client, COMMISSIONS, key, campaign=foreign.pk))

    # then
    assert both == [three_orders["A-1"].pk]
    assert none == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "paid"}, "status"),
        ({"campaign": "spring"}, "campaign"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2025-03-01T12:00:00"}, "updated_since"),  # no time zone
        ({"updated_since": "2025-02-30T12:00:00Z"}, "updated_since"),  # no such day
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": Cursor(updated_at=timezone.now(), pk=10**30).encode()}, "cursor"),  # no such id
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(
    client: Client, key: str, params: dict[str, str], field: str
) -> None:
    # when
    response = get(client, COMMISSIONS, key, **params)

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]


def test_a_bad_updated_since_says_what_to_send(client: Client, key: str) -> None:
    # when
    response = get(client, COMMISSIONS, key, updated_since="2025-03-01")

    # then
    assert response.json()["errors"] == {
        "updated_since": [
            "Enter an RFC 3339 timestamp with a time zone, like 2025-03-01T12:30:00Z."
        ]
    }


def test_a_creator_cannot_filter_by_another_creator(client: Client, ola: Collaboration) -> None:
    # given
    client.force_login(ola.creator.user)

    # when
    response = get(client, COMMISSIONS, creator="ben")

    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["creator"]


@pytest.mark.django_db(transaction=True)
def test_updated_since_lists_what_changed_at_or_after_the_instant(client: Client) -> None:
    # given two processing runs, each in its own committed transaction
    collab = CollaborationFactory()
    key = key_for(collab.brand)
    send(collab.brand, event("p1", order_id="A-1", code=code_of(collab)))
    first = commission_of("A-1", collab.brand)
    send(collab.brand, event("p2", order_id="A-2", code=code_of(collab)))
    second = commission_of("A-2", collab.brand)
    assert first.updated_at < second.updated_at

    # when
    since_second = ids(get(client, COMMISSIONS, key, updated_since=rfc(second.updated_at)))
    since_first = ids(get(client, COMMISSIONS, key, updated_since=rfc(first.updated_at)))
    in_paris = (second.updated_at + dt.timedelta(microseconds=1)).astimezone(
        dt.timezone(dt.timedelta(hours=2))
    )
    after_both = ids(get(client, COMMISSIONS, key, updated_since=in_paris.isoformat()))

    # when a refund changes the first commission later
    send(collab.brand, event("r1", "order.refunded", order_id="A-1", amount="10.00"))
    since_second_again = ids(get(client, COMMISSIONS, key, updated_since=rfc(second.updated_at)))

    # then
    assert since_second == [second.pk]
    assert since_first == [second.pk, first.pk]  # the latest change first
    assert after_both == []
    assert since_second_again == [first.pk, second.pk]


# ---------------------------------------------------------------------------------------
# Pagination


def test_following_next_walks_every_commission_once_in_order(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given seven orders processed together: they share one updated time, so only the id
    # tells them apart
    send(
        campaign.brand,
        *[event(f"p{n}", order_id=f"A-{n}", code=code_of(ola)) for n in range(7)],
    )
    expected = list(
        Commission.objects.filter(brand=campaign.brand)
        .order_by("-updated_at", "-id")
        .values_list("id", flat=True)
    )
    assert len(expected) == 7
    assert len({c.updated_at for c in Commission.objects.all()}) == 1

    # when
    pages: list[list[int]] = []
    response = get(client, COMMISSIONS, key, page_size=2)
    while True:
        pages.append(ids(response))
        following = response.json()["next"]
        if following is None:
            break
        assert "page_size=2" in following
        response = client.get(following, headers={"authorization": f"Bearer {key}"})

    # then
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [pk for page in pages for pk in page] == expected


def test_previous_walks_back_to_the_same_pages(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given
    send(
        campaign.brand,
        *[event(f"p{n}", order_id=f"A-{n}", code=code_of(ola)) for n in range(5)],
    )
    headers = {"authorization": f"Bearer {key}"}
    first = get(client, COMMISSIONS, key, page_size=2)
    second = client.get(first.json()["next"], headers=headers)
    third = client.get(second.json()["next"], headers=headers)

    # when
    back_to_second = client.get(third.json()["previous"], headers=headers)
    back_to_first = client.get(back_to_second.json()["previous"], headers=headers)

    # then
    assert first.json()["previous"] is None
    assert third.json()["next"] is None
    assert ids(back_to_second) == ids(second)
    assert ids(back_to_first) == ids(first)
    assert back_to_first.json()["previous"] is None
    assert ids(client.get(back_to_first.json()["next"], headers=headers)) == ids(second)


def test_the_default_page_holds_100_commissions(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given
    send(
        campaign.brand,
        *[event(f"p{n}", order_id=f"A-{n}", code=code_of(ola)) for n in range(101)],
    )

    # when
    response = get(client, COMMISSIONS, key)

    # then
    assert len(ids(response)) == 100
    assert response.json()["next"] is not None
    assert (
        len(ids(client.get(response.json()["next"], headers={"authorization": f"Bearer {key}"})))
        == 1
    )


def _list_queries(client: Client, url: str, key: str | None = None, **params: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = get(client, url, key, **params)
    assert response.status_code == 200
    return len(queries)


def test_a_page_costs_the_same_few_queries_however_many_rows_it_holds(
    client: Client,
    campaign: Campaign,
    ola: Collaboration,
    ben: Collaboration,
    key: str,
    django_assert_max_num_queries: Any,
) -> None:
    # given commissions of several campaigns and creators
    summer = CollaborationFactory(campaign=CampaignFactory(brand=campaign.brand))
    send(campaign.brand, event("p0", order_id="A-0", code=code_of(ola)))
    get(client, COMMISSIONS, key)  # the key's last use is written at most once a minute
    with django_assert_max_num_queries(2):  # the key, the page
        assert len(ids(get(client, COMMISSIONS, key))) == 1
    few = _list_queries(client, COMMISSIONS, key)
    send(
        campaign.brand,
        *[
            event(f"p{n}", order_id=f"A-{n}", code=code_of(collab))
            for n, collab in enumerate([ola, ben, summer] * 10, start=1)
        ],
    )

    # when
    many = _list_queries(client, COMMISSIONS, key)
    client.force_login(ola.creator.user)
    creator_few = _list_queries(client, COMMISSIONS, page_size=1)
    creator_many = _list_queries(client, COMMISSIONS)

    # then
    assert many == few
    assert creator_many == creator_few
    with django_assert_max_num_queries(4):  # session user, creator profile, page
        assert len(ids(get(client, COMMISSIONS))) == 11


# ---------------------------------------------------------------------------------------
# Decimal strings


def test_amounts_are_decimal_strings_in_the_currencys_minor_unit(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given a zero-decimal currency beside a two-decimal one
    yen = CollaborationFactory(
        campaign=CampaignFactory(brand=campaign.brand, currency="JPY"), creator=ola.creator
    )
    send(
        campaign.brand,
        event("p1", order_id="EUR-1", amount="0.05", code=code_of(ola)),
        event("p2", order_id="JPY-1", amount="1050", currency="JPY", code=code_of(yen)),
    )

    # when
    results = get(client, COMMISSIONS, key).json()["results"]

    # then 10 % of 0.05 EUR is half a cent, rounded up; 10 % of 1050 JPY is 105
    amounts = {c["order_id"]: (c["amount"], c["net_amount"], c["currency"]) for c in results}
    assert amounts == {"EUR-1": ("0.01", "0.05", "EUR"), "JPY-1": ("105", "1050", "JPY")}


# ---------------------------------------------------------------------------------------
# One order


def order_url(order_id: str) -> str:
    return f"/api/v1/orders/{order_id}"


def test_an_order_shows_its_state_attribution_events_and_commission_history(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given paid, partly refunded, then approved after its hold
    occurred = timezone.now().replace(microsecond=0) - dt.timedelta(days=2)
    send(
        campaign.brand,
        event("p1", order_id="A-1", amount="129.99", code=code_of(ola), occurred_at=occurred),
    )
    send(
        campaign.brand,
        event(
            "r1",
            "order.refunded",
            order_id="A-1",
            amount="29.99",
            occurred_at=occurred + dt.timedelta(hours=1),
        ),
    )
    commission = commission_of("A-1", campaign.brand)
    assert commission.payable_at is not None
    commissions_mature(now=commission.payable_at)
    commission.refresh_from_db()

    # when
    response = get(client, order_url("A-1"), key)

    # then
    assert response.status_code == 200
    body = response.json()
    events = body.pop("events")
    commissions = body.pop("commissions")
    assert body == {
        "order_id": "A-1",
        "processed": True,
        "currency": "EUR",
        "paid_amount": "129.99",
        "refunded": "29.99",
        "net_amount": "100.00",
        "over_refunded": "0.00",
        "commission": "10.00",
        "cancelled": False,
        "awaiting_paid": False,
        "conflicts": [],
        "error": None,
        "occurred_at": rfc(occurred),
        "attribution": {
            "status": "attributed",
            "via": "code",
            "collaboration_id": ola.pk,
            "campaign": {"id": campaign.pk, "title": "Spring"},
            "creator": {"handle": "Ola"},
            "reason": None,
            "message": None,
            "params": {},
        },
    }
    assert [(e["id"], e["type"], e["amount"], e["outcome"]) for e in events] == [
        ("p1", "order.paid", "129.99", "applied"),
        ("r1", "order.refunded", "29.99", "applied"),
    ]
    assert events[0]["code"] == code_of(ola)
    assert events[0]["occurred_at"] == rfc(occurred)
    assert events[0]["currency"] == "EUR"
    assert events[0]["click_id"] is None
    assert events[0]["source"] == "api"
    assert events[0]["outcome_reason"] == ""
    assert events[0]["received_at"] is not None
    history = commissions[0].pop("history")
    assert commissions == [
        {
            "id": commission.pk,
            "collaboration_id": ola.pk,
            "order_id": "A-1",
            "campaign": {"id": campaign.pk, "title": "Spring"},
            "creator": {"handle": "Ola"},
            "status": "approved",
            "amount": "10.00",
            "net_amount": "100.00",
            "currency": "EUR",
            "payable_at": rfc(commission.payable_at),
            "approved_at": rfc(commission.payable_at),
            "budget_note": "",
            "created_at": rfc(commission.created_at),
            "updated_at": rfc(commission.updated_at),
        }
    ]
    assert [(h["kind"], h["amount"], h["pending"], h["available"]) for h in history] == [
        ("commission", "13.00", "13.00", "0.00"),
        ("commission_adjustment", "-3.00", "-3.00", "0.00"),
        ("maturation", "0.00", "-10.00", "10.00"),
    ]


def test_an_order_of_another_brand_is_404_like_an_unknown_one(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given the other brand has order A-1; this brand has none
    other = CollaborationFactory()
    send(other.brand, event("p1", order_id="A-1", code=code_of(other)))

    # when
    foreign = get(client, order_url("A-1"), key)
    unknown = get(client, order_url("A-404"), key)

    # then
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert foreign.json()["code"] == "not_found"


def test_an_unattributed_order_says_why_in_words(
    client: Client, campaign: Campaign, key: str
) -> None:
    # given
    send(campaign.brand, event("p1", order_id="A-1", code="NOSUCHCODE"))

    # when
    body = get(client, order_url("A-1"), key).json()

    # then
    assert body["attribution"] == {
        "status": "unattributed",
        "via": None,
        "collaboration_id": None,
        "campaign": None,
        "creator": None,
        "reason": "unknown_code",
        "message": "The code NOSUCHCODE is not a tracking code or discount code of this brand.",
        "params": {"code": "NOSUCHCODE"},
    }
    assert body["commission"] == "0.00"
    assert body["commissions"] == []
    assert [e["outcome"] for e in body["events"]] == ["unattributed"]


def test_a_failed_click_reports_the_codes_failure_too(
    client: Client, campaign: Campaign, key: str
) -> None:
    # given an unknown click id and an unknown code
    send(campaign.brand, event("p1", order_id="A-1", click_id=UNKNOWN_CLICK, code="NOPE"))

    # when
    attribution = get(client, order_url("A-1"), key).json()["attribution"]

    # then
    assert attribution["reason"] == "unknown_click"
    assert attribution["message"] == (
        f"The click id {UNKNOWN_CLICK} is not a click on one of this brand's tracking links. "
        "The code NOPE is not a tracking code or discount code of this brand."
    )


def test_an_order_id_may_hold_slashes_sent_as_is_or_encoded(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given
    order_id = "shop/2025/A 1"
    send(campaign.brand, event("p1", order_id=order_id, code=code_of(ola)))

    # when
    as_is = get(client, order_url(quote(order_id, safe="/")), key)
    encoded = get(client, order_url(quote(order_id, safe="")), key)

    # then
    assert as_is.status_code == encoded.status_code == 200
    assert as_is.json()["order_id"] == encoded.json()["order_id"] == order_id
    assert as_is.json()["commission"] == "10.00"


def test_an_order_whose_events_wait_for_processing_is_shown_as_not_processed(
    client: Client, campaign: Campaign, ola: Collaboration, key: str
) -> None:
    # given
    send(campaign.brand, event("p1", order_id="A-1", code=code_of(ola)), process=False)

    # when
    body = get(client, order_url("A-1"), key).json()

    # then
    assert body["processed"] is False
    assert body["attribution"]["status"] == "awaiting"
    assert body["net_amount"] == "0.00"
    assert [(e["id"], e["outcome"]) for e in body["events"]] == [("p1", None)]


def test_a_refund_waiting_for_its_paid_event_shows_the_order_awaiting(
    client: Client, campaign: Campaign, key: str
) -> None:
    # given
    send(campaign.brand, event("r1", "order.refunded", order_id="A-1", amount="5.00"))

    # when
    body = get(client, order_url("A-1"), key).json()

    # then
    assert body["processed"] is True
    assert body["attribution"]["status"] == "awaiting"
    assert [(e["id"], e["outcome"]) for e in body["events"]] == [("r1", "awaiting_paid")]


def test_an_order_costs_a_fixed_number_of_queries(
    client: Client,
    campaign: Campaign,
    ola: Collaboration,
    key: str,
    django_assert_max_num_queries: Any,
) -> None:
    # given
    send(
        campaign.brand,
        event("p1", order_id="A-1", code=code_of(ola)),
        event("r1", "order.refunded", order_id="A-1", amount="1.00"),
        event("r2", "order.refunded", order_id="A-1", amount="2.00"),
    )
    get(client, order_url("A-1"), key)

    # when / then: the key, the order, its events, commissions, their ledger history
    with django_assert_max_num_queries(5):
        assert get(client, order_url("A-1"), key).status_code == 200


def test_orders_are_for_brand_keys_only(client: Client, ola: Collaboration) -> None:
    # given a creator logged in
    send(ola.brand, event("p1", order_id="A-1", code=code_of(ola)))
    client.force_login(ola.creator.user)

    # when
    response = get(client, order_url("A-1"))

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# ---------------------------------------------------------------------------------------
# Rate limits


def test_the_read_api_has_its_own_limit_per_key_and_per_creator(
    client: Client, campaign: Campaign, ola: Collaboration, key: str, settings: Any
) -> None:
    # given: a read limit of 2 a minute, and the ingest limit used up
    settings.READ_API_RATE_LIMIT = "2/m"
    settings.ORDER_EVENTS_RATE_LIMIT = "1/m"
    client.post(
        "/api/v1/order-events",
        data={"events": []},
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )

    # when / then: the key reads twice, the third read is refused with Retry-After
    assert get(client, "/api/v1/commissions", key).status_code == 200
    assert get(client, "/api/v1/orders/nope", key).status_code == 404
    refused = get(client, "/api/v1/commissions", key)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60

    # and a signed-in creator has a window of their own
    client.force_login(ola.creator.user)
    assert get(client, "/api/v1/commissions").status_code == 200
    assert get(client, "/api/v1/commissions").status_code == 200
    assert get(client, "/api/v1/commissions").status_code == 429
