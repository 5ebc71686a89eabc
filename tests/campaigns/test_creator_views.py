"""The creator side of campaigns: the marketplace, joining and applying, invitations, and the
collaboration page with its link, code and QR code."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import pytest
import segno
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from playwright.sync_api import expect

from campaigns.models import ClickDailyCount, Collaboration, CollaborationStatus, JoinMode
from campaigns.qr import qr_svg
from campaigns.services.collaborations import (
    collaboration_accept,
    collaboration_accept_invitation,
    collaboration_invite,
)
from tests.campaigns.factories import (
    BrandFactory,
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
    niche,
)
from tests.connect.factories import CreatorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

SITE = "https://connect.example"
Capture = Any


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = SITE


def _signed_in(client: Client, **profile: Any) -> Any:
    creator = CreatorProfileFactory(**profile)
    client.force_login(creator.user)
    return creator


def _titles(response: Any) -> list[str]:
    return [card.campaign.title for card in response.context["cards"]]


def _applied(campaign: Any, creator: Any) -> Collaboration:
    return CollaborationFactory(
        campaign=campaign,
        creator=creator,
        status=CollaborationStatus.APPLIED,
        tracking_code=None,
        discount_code=None,
        activated_at=None,
        pitch="Linen lover.",
    )


# ------------------------------------------------------------------------------ access


def test_marketplace_sends_visitors_to_sign_in_and_users_without_profile_to_onboarding(
    client: Client,
) -> None:
    # given
    anonymous = client.get("/campaigns/")
    client.force_login(UserFactory(verified=True))

    # when
    without_profile = client.get("/campaigns/")

    # then
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/accounts/login/?next=/campaigns/"
    assert without_profile.status_code == 302
    assert without_profile["Location"] == "/onboarding/"


# ------------------------------------------------------------------------- marketplace


def test_marketplace_searches_filters_and_sorts_active_campaigns(client: Client) -> None:
    # given
    _signed_in(client)
    beauty = niche("beauty")
    linen = CampaignFactory(
        title="Linen summer", percent=Decimal("12.50"), target_countries=["PL"], currency="PLN"
    )
    serum = CampaignFactory(
        title="Glow serum", niche=beauty, percent=Decimal("20.00"), target_countries=["ES"]
    )
    boots = CampaignFactory(
        title="Boots", brand=BrandFactory(name="Linen & Leather"), percent=None, fixed_minor=900
    )
    CampaignFactory(title="Draft", status="draft")
    CampaignFactory(title="Paused", status="paused")

    # when
    everything = client.get("/campaigns/")
    by_text = client.get("/campaigns/", {"q": "linen"})
    by_niche = client.get("/campaigns/", {"niche": "beauty"})
    by_country = client.get("/campaigns/", {"country": "PL"})
    by_currency = client.get("/campaigns/", {"currency": "PLN"})
    fixed_only = client.get("/campaigns/", {"commission_type": "fixed"})
    min_rate = client.get("/campaigns/", {"min_percent": "15"})
    by_commission = client.get("/campaigns/", {"sort": "commission"})

    # then
    assert _titles(everything) == [boots.title, serum.title, linen.title]
    assert _titles(by_text) == ["Boots", "Linen summer"]
    assert _titles(by_niche) == ["Glow serum"]
    assert _titles(by_country) == ["Boots", "Linen summer"]  # no target countries: everywhere
    assert _titles(by_currency) == ["Linen summer"]
    assert _titles(fixed_only) == ["Boots"]
    assert _titles(min_rate) == ["Glow serum"]
    assert _titles(by_commission) == ["Glow serum", "Linen summer", "Boots"]


def test_marketplace_cards_show_commission_join_mode_and_status(client: Client) -> None:
    # given
    creator = _signed_in(client)
    joined = CampaignFactory(title="Joined one", percent=Decimal("12.50"))
    CollaborationFactory(campaign=joined, creator=creator)
    applied = CampaignFactory(title="Applied one", join_mode=JoinMode.APPLICATION)
    _applied(applied, creator)
    CampaignFactory(title="Fixed one", percent=None, fixed_minor=1250, currency="PLN")

    # when
    english = client.get("/campaigns/").content.decode()
    polish = client.get("/campaigns/", HTTP_ACCEPT_LANGUAGE="pl").content.decode()

    # then
    assert "12.5%" in english
    assert "PLN12.50" in english
    assert "12,5%" in polish
    assert "12,50\xa0zł" in polish
    assert "Join instantly" in english and "Apply to join" in english
    assert "You are in: your link is ready." in english
    assert "Application sent, waiting for the brand." in english
    assert english.count("You are eligible") == 1  # only the fixed one is still open to them


def test_marketplace_says_why_a_creator_is_not_eligible(client: Client) -> None:
    # given
    _signed_in(client, country="PL", max_followers=800)
    CampaignFactory(title="Big audiences", min_followers=10000)
    CampaignFactory(title="Iberia", eligible_countries=["ES", "PT"])

    # when
    response = client.get("/campaigns/")

    # then
    reasons = {card.campaign.title: card.reasons for card in response.context["cards"]}
    assert reasons == {
        "Big audiences": ["Needs at least 10,000 followers on one platform (you have 800)."],
        "Iberia": ["Open to creators in: Spain, Portugal."],
    }
    html = response.content.decode()
    assert "Not eligible" in html
    assert "Needs at least 10,000 followers on one platform (you have 800)." in html
    assert "Open to creators in: Spain, Portugal." in html


def test_marketplace_paginates_twelve_campaigns_a_page(client: Client) -> None:
    # given
    _signed_in(client)
    CampaignFactory.create_batch(13)

    # when
    first = client.get("/campaigns/")
    second = client.get("/campaigns/", {"page": "2"})

    # then
    assert len(first.context["cards"]) == 12
    assert len(second.context["cards"]) == 1
    assert "Page 2 of 2" in second.content.decode()


def test_empty_marketplace_explains_itself(client: Client) -> None:
    # given
    _signed_in(client)

    # when
    empty = client.get("/campaigns/").content.decode()
    filtered = client.get("/campaigns/", {"q": "nothing like this"}).content.decode()

    # then
    assert "No live campaigns yet" in empty
    assert "No campaign matches these filters" in filtered
    assert "Clear filters" in filtered


# ----------------------------------------------------------------------- invite-only


def test_invite_only_campaigns_are_not_listed_and_cannot_be_joined(client: Client) -> None:
    # given
    creator = _signed_in(client)
    campaign = CampaignFactory(title="Secret drop", join_mode=JoinMode.INVITE_ONLY)

    # when
    listed = client.get("/campaigns/")
    detail = client.get(f"/campaigns/{campaign.pk}/")
    joined = client.post(f"/campaigns/{campaign.pk}/join/")

    # then
    assert _titles(listed) == []
    assert "By invitation only" in detail.content.decode()
    assert joined.status_code == 403
    assert "This campaign is by invitation only." in joined.content.decode()
    assert not Collaboration.objects.filter(creator=creator).exists()


def test_draft_campaigns_are_hidden_from_creators(client: Client) -> None:
    # given
    _signed_in(client)
    campaign = CampaignFactory(status="draft")

    # when
    response = client.get(f"/campaigns/{campaign.pk}/")

    # then
    assert response.status_code == 404


# -------------------------------------------------------------------- campaign detail


def test_campaign_detail_shows_terms_eligibility_and_the_brand(client: Client) -> None:
    # given
    _signed_in(client, country="PL", max_followers=2500)
    campaign = CampaignFactory(
        title="Linen summer",
        brand=BrandFactory(name="Zielona Szafa", slug="zielona-szafa"),
        brief="Show our **linen**.\n\nTag <b>us</b>!<script>alert(1)</script>",
        percent=Decimal("12.50"),
        hold_days=14,
        window_days=7,
        min_followers=1000,
        eligible_countries=["PL"],
        target_countries=["PL", "CZ"],
    )

    # when
    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()

    # then
    assert "12.5%" in html
    assert "Payable 14 days after the order" in html
    assert "Orders within 7 days of a click on your link count" in html
    assert 'href="/brands/zielona-szafa/"' in html
    assert "Czechia, Poland" in html
    assert "At least 1,000 followers on one platform" in html
    assert "<p>Show our <strong>linen</strong>.</p>" in html  # Markdown, sanitized
    assert "<b>us</b>" not in html
    assert "alert(1)" not in html
    assert "Join campaign" in html


# ------------------------------------------------------------------------ joining


def test_joining_an_open_campaign_activates_with_codes_and_emails_the_brand(
    client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    creator = _signed_in(client, handle="ola_creates")
    owner = BrandMembershipFactory()
    campaign = CampaignFactory(brand=owner.brand, title="Linen summer")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/campaigns/{campaign.pk}/join/")

    # then
    collaboration = Collaboration.objects.get(creator=creator, campaign=campaign)
    assert response.status_code == 302
    assert response["Location"] == f"/collaborations/{collaboration.pk}/"
    assert collaboration.status == CollaborationStatus.ACTIVE
    assert collaboration.discount_code == "OLACREATES"
    assert re.fullmatch(r"[A-Za-z0-9]{10}", collaboration.tracking_code)
    assert [m.to for m in mail.outbox] == [[owner.user.email]]
    assert mail.outbox[0].subject == f"[Connect] {creator.display_name} joined Linen summer"


def test_applying_with_a_pitch_waits_for_the_brand_and_emails_it(
    client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    creator = _signed_in(client)
    owner = BrandMembershipFactory()
    campaign = CampaignFactory(brand=owner.brand, join_mode=JoinMode.APPLICATION)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/campaigns/{campaign.pk}/join/", {"pitch": "  I style linen for 12k readers.  "}
        )

    # then
    collaboration = Collaboration.objects.get(creator=creator, campaign=campaign)
    assert response.status_code == 302
    assert collaboration.status == CollaborationStatus.APPLIED
    assert collaboration.pitch == "I style linen for 12k readers."
    assert collaboration.tracking_code is None
    assert [m.to for m in mail.outbox] == [[owner.user.email]]
    assert "I style linen for 12k readers." in mail.outbox[0].body
    page = client.get(response["Location"]).content.decode()
    assert "Your application is with the brand" in page


def test_an_empty_pitch_is_refused(client: Client) -> None:
    # given
    creator = _signed_in(client)
    campaign = CampaignFactory(join_mode=JoinMode.APPLICATION)

    # when
    response = client.post(f"/campaigns/{campaign.pk}/join/", {"pitch": "   "})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"pitch": ["Tell the brand why you are a good fit."]}
    assert not Collaboration.objects.filter(creator=creator).exists()


def test_an_ineligible_creator_cannot_join(client: Client) -> None:
    # given
    creator = _signed_in(client, country="PL", max_followers=800)
    campaign = CampaignFactory(min_followers=10000)

    # when
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    response = client.post(f"/campaigns/{campaign.pk}/join/")

    # then
    assert "You cannot join yet" in page
    assert response.status_code == 403
    assert "Needs at least 10,000 followers on one platform (you have 800)." in (
        response.content.decode()
    )
    assert not Collaboration.objects.filter(creator=creator).exists()


def test_an_unverified_creator_cannot_join(client: Client) -> None:
    # given
    creator = _signed_in(client)
    EmailAddress.objects.filter(user=creator.user).update(verified=False)
    campaign = CampaignFactory()

    # when
    response = client.post(f"/campaigns/{campaign.pk}/join/")

    # then: allauth's "verify your email" page, and nothing joined
    assert response.status_code == 200
    assert "account/verified_email_required.html" in [t.name for t in response.templates]
    assert not Collaboration.objects.filter(creator=creator).exists()


def test_joining_twice_keeps_one_collaboration(client: Client) -> None:
    # given
    creator = _signed_in(client)
    campaign = CampaignFactory()
    client.post(f"/campaigns/{campaign.pk}/join/")

    # when
    response = client.post(f"/campaigns/{campaign.pk}/join/")

    # then
    assert response.status_code == 302
    assert Collaboration.objects.filter(creator=creator).count() == 1


# --------------------------------------------------------------------- applications


def test_a_creator_cannot_accept_their_own_application(client: Client) -> None:
    # given
    creator = _signed_in(client)
    collaboration = _applied(CampaignFactory(), creator)

    # when: the only creator action that accepts is for invitations
    response = client.post(f"/collaborations/{collaboration.pk}/accept/", follow=True)

    # then
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.APPLIED
    assert "Only invitations can be accepted by the creator." in response.content.decode()


def test_the_brand_side_accept_refuses_someone_outside_the_brand() -> None:
    # given
    creator = CreatorProfileFactory()
    collaboration = _applied(CampaignFactory(), creator)

    # when / then
    with pytest.raises(PermissionDenied, match=r"You are not a member of this brand\."):
        collaboration_accept(collaboration=collaboration, actor=creator.user)
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.APPLIED


# ---------------------------------------------------------------------- invitations


def _invitation(creator: Any) -> Collaboration:
    owner = BrandMembershipFactory()
    campaign = CampaignFactory(brand=owner.brand, join_mode=JoinMode.INVITE_ONLY)
    return collaboration_invite(campaign=campaign, creator=creator, actor=owner.user)


def test_invitations_come_first_and_can_be_accepted(
    client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    creator = _signed_in(client)
    invitation = _invitation(creator)
    CollaborationFactory(creator=creator)
    page = client.get("/collaborations/").content.decode()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/collaborations/{invitation.pk}/accept/")

    # then
    assert page.index("Invitations") < page.index("All")
    invitation.refresh_from_db()
    assert invitation.status == CollaborationStatus.ACTIVE
    assert invitation.tracking_code
    assert response["Location"] == f"/collaborations/{invitation.pk}/"
    assert [m.subject for m in mail.outbox] == [
        f"[Connect] {creator.display_name} accepted your invitation to {invitation.campaign.title}"
    ]


def test_an_invitation_can_be_declined(client: Client) -> None:
    # given
    creator = _signed_in(client)
    invitation = _invitation(creator)

    # when
    response = client.post(f"/collaborations/{invitation.pk}/decline/", follow=True)

    # then
    invitation.refresh_from_db()
    assert invitation.status == CollaborationStatus.DECLINED
    assert "You declined the invitation" in response.content.decode()


def test_another_creator_cannot_answer_an_invitation(client: Client) -> None:
    # given
    invitation = _invitation(CreatorProfileFactory())
    intruder = _signed_in(client)

    # when
    accepted = client.post(f"/collaborations/{invitation.pk}/accept/")
    declined = client.post(f"/collaborations/{invitation.pk}/decline/")

    # then
    assert accepted.status_code == 404
    assert declined.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == CollaborationStatus.INVITED
    with pytest.raises(PermissionDenied):
        collaboration_accept_invitation(collaboration=invitation, actor=intruder.user)


# --------------------------------------------------------------------- collaborations


def test_my_collaborations_show_status_reason_and_clicks(client: Client) -> None:
    # given
    creator = _signed_in(client)
    active = CollaborationFactory(creator=creator, campaign=CampaignFactory(title="Active one"))
    ClickDailyCount.objects.create(collaboration=active, day="2026-01-01", clicks=1234)
    rejected = _applied(CampaignFactory(title="Rejected one"), creator)
    Collaboration.objects.filter(pk=rejected.pk).update(
        status=CollaborationStatus.REJECTED, decision_reason="Only creators in Spain."
    )
    CollaborationFactory(
        creator=CreatorProfileFactory(), campaign=CampaignFactory(title="Not mine")
    )

    # when
    everything = client.get("/collaborations/").content.decode()
    closed = client.get("/collaborations/", {"tab": "closed"})

    # then
    assert "Active one" in everything and "Rejected one" in everything
    assert "Not mine" not in everything
    assert "1,234" in everything
    assert "Only creators in Spain." in everything
    assert [c.campaign.title for c in closed.context["page"].object_list] == ["Rejected one"]


def test_collaboration_page_shows_link_code_qr_and_clicks(client: Client) -> None:
    # given
    creator = _signed_in(client)
    collaboration = CollaborationFactory(creator=creator, discount_code="OLA10")

    # when
    response = client.get(f"/collaborations/{collaboration.pk}/")

    # then
    html = response.content.decode()
    link = f"{SITE}/r/{collaboration.tracking_code}"
    assert response.context["link"] == link
    assert f">{link}</div>" in html
    assert 'value="OLA10"' in html
    assert 'data-copy="tracking-link"' in html and 'data-copy="discount-code"' in html
    assert f'src="/collaborations/{collaboration.pk}/qr.svg"' in html
    assert response.context["clicks"] == 0


def test_collaboration_page_is_not_found_for_another_creator(client: Client) -> None:
    # given
    collaboration = CollaborationFactory()
    _signed_in(client)

    # when
    page = client.get(f"/collaborations/{collaboration.pk}/")
    qr = client.get(f"/collaborations/{collaboration.pk}/qr.svg")

    # then
    assert page.status_code == 404
    assert qr.status_code == 404


def _svg_modules(svg: bytes) -> set[tuple[int, int]]:
    """Read back the dark modules that segno's path draws (`M x y` then `h`/`m` runs)."""
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own server's output, not untrusted
    path = next(p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("stroke"))
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path.get("d", "")):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for step in range(int(float(a))):
                dark.add((int(x) + step, int(y - 0.5)))
            x += float(a)
    return dark


def test_qr_code_is_an_svg_of_the_tracking_link(client: Client) -> None:
    # given
    creator = _signed_in(client)
    collaboration = CollaborationFactory(creator=creator)
    link = f"{SITE}/r/{collaboration.tracking_code}"

    # when
    response = client.get(f"/collaborations/{collaboration.pk}/qr.svg")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == qr_svg(link)
    expected = segno.make(link, error="m", micro=False)
    border = 4
    assert _svg_modules(response.content) == {
        (col + border, row + border)
        for row, line in enumerate(expected.matrix)
        for col, value in enumerate(line)
        if value
    }


def test_qr_code_downloads_as_png(client: Client) -> None:
    # given
    creator = _signed_in(client)
    collaboration = CollaborationFactory(creator=creator)

    # when
    response = client.get(f"/collaborations/{collaboration.pk}/qr.png")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert response["Content-Disposition"] == (
        f'attachment; filename="connect-qr-{collaboration.tracking_code}.png"'
    )


def test_an_application_has_no_qr_code(client: Client) -> None:
    # given
    creator = _signed_in(client)
    collaboration = _applied(CampaignFactory(), creator)

    # when
    response = client.get(f"/collaborations/{collaboration.pk}/qr.svg")

    # then
    assert response.status_code == 404


# --------------------------------------------------------------------------- browser


def _browser_page(browser: Any, live_server: Any, user: Any, width: int = 1280) -> Any:
    """A Chromium page signed in as `user` (the session cookie of a test client login)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("niches")
def test_a_creator_finds_joins_and_shares_a_campaign_in_chromium(
    live_server: Any, browser: Any, screenshot: Any
) -> None:
    # given: a creator with a modest audience, a few live campaigns and an invitation
    creator = CreatorProfileFactory(
        handle="ola_creates", display_name="Ola Kowalska", max_followers=12500
    )
    linen = BrandFactory(name="Zielona Szafa", slug="zielona-szafa", country="PL")
    glow = BrandFactory(name="Glow Lab", slug="glow-lab", country="ES")
    BrandMembershipFactory(brand=linen)
    campaign = CampaignFactory(
        brand=linen,
        title="Linen for the summer",
        brief=(
            "Show how you wear **our linen** on hot days.\n\n"
            "- one reel or three stories\n- mention the code at checkout\n\n"
            "Questions? Write to [our team](https://zielona.example/contact)."
        ),
        percent=Decimal("12.50"),
        hold_days=14,
        target_countries=["PL", "CZ"],
    )
    CampaignFactory(
        brand=glow,
        title="Glow serum launch",
        niche=niche("beauty"),
        join_mode=JoinMode.APPLICATION,
        percent=Decimal("20.00"),
    )
    CampaignFactory(brand=glow, title="Sunscreen stories", percent=None, fixed_minor=900)
    CampaignFactory(title="Creators with big audiences", min_followers=100000)
    CampaignFactory(title="Iberian summer", eligible_countries=["ES", "PT"])
    owner = BrandMembershipFactory(brand=glow)
    invited = CampaignFactory(
        brand=glow, title="Invite-only capsule", join_mode=JoinMode.INVITE_ONLY
    )
    collaboration_invite(campaign=invited, creator=creator, actor=owner.user)
    page = _browser_page(browser, live_server, creator.user)

    # when: they browse the marketplace and open the linen campaign
    page.goto(f"{live_server.url}/campaigns/")
    screenshot(page, "marketplace")
    page.get_by_role("link", name="Linen for the summer").click()
    screenshot(page, "campaign-detail")
    page.get_by_role("button", name="Join campaign").click()
    page.wait_for_url(re.compile(r".*/collaborations/\d+/$"))

    # then: their link, code and QR code are ready, and the copy button copies the link
    joined = Collaboration.objects.get(creator=creator, campaign=campaign)
    link = f"{SITE}/r/{joined.tracking_code}"
    assert page.url == f"{live_server.url}/collaborations/{joined.pk}/"
    assert page.inner_text("#tracking-link") == link
    assert page.input_value("#discount-code") == "OLACREATES"
    qr = page.locator("img[src$='qr.svg']")
    # the QR image loads after the page: wait for it before measuring
    expect(qr).to_have_js_property("complete", True)
    assert qr.evaluate("img => img.naturalWidth > 0")
    page.locator("[data-copy=tracking-link]").click()
    page.get_by_role("button", name="Copied!").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link
    screenshot(page, "collaboration")

    mobile = _browser_page(browser, live_server, creator.user, width=390)
    mobile.goto(f"{live_server.url}/collaborations/{joined.pk}/")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(mobile, "collaboration-mobile")

    # and: the invitation waits at the top of their collaborations
    page.goto(f"{live_server.url}/collaborations/")
    screenshot(page, "collaborations")
    page.get_by_role("button", name="Accept").click()
    page.wait_for_url(re.compile(r".*/collaborations/\d+/$"))
    assert Collaboration.objects.get(campaign=invited).status == CollaborationStatus.ACTIVE
    page.goto(f"{live_server.url}/collaborations/")
    screenshot(page, "collaborations-after-accept")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("niches")
def test_a_creator_applies_and_sees_why_they_cannot_join_in_chromium(
    live_server: Any, browser: Any, screenshot: Any
) -> None:
    # given
    creator = CreatorProfileFactory(display_name="Ola Kowalska", max_followers=800)
    brand = BrandFactory(name="Glow Lab", country="ES")
    big = CampaignFactory(brand=brand, title="Big audiences only", min_followers=50000)
    serum = CampaignFactory(
        brand=brand,
        title="Glow serum launch",
        join_mode=JoinMode.APPLICATION,
        percent=Decimal("20.00"),
        ends_on="2099-06-30",
    )
    rejected = _applied(CampaignFactory(title="Winter coats"), creator)
    Collaboration.objects.filter(pk=rejected.pk).update(
        status=CollaborationStatus.REJECTED,
        decision_reason="We are looking for creators with a Spanish audience this season.",
    )
    removed = CollaborationFactory(creator=creator, campaign=CampaignFactory(title="Old sneakers"))
    Collaboration.objects.filter(pk=removed.pk).update(
        status=CollaborationStatus.REMOVED,
        removed_at="2026-01-10T10:00:00Z",
        decision_reason="The campaign's audience moved on.",
    )
    page = _browser_page(browser, live_server, creator.user)

    # when: they open a campaign they are too small for
    page.goto(f"{live_server.url}/campaigns/{big.pk}/")
    screenshot(page, "ineligible")
    assert page.get_by_role("button", name="Join campaign").is_disabled()

    # and: they apply to another, first without a pitch
    page.goto(f"{live_server.url}/campaigns/{serum.pk}/")
    page.get_by_role("button", name="Send application").click()
    page.get_by_text("Tell the brand why you are a good fit.").wait_for()
    screenshot(page, "pitch-missing")
    page.fill("#id_pitch", "I review skincare for 800 loyal readers in Kraków.")
    page.get_by_role("button", name="Send application").click()

    # then
    page.get_by_text("Your application is with the brand").wait_for()
    screenshot(page, "applied")
    assert Collaboration.objects.get(campaign=serum).status == CollaborationStatus.APPLIED
    page.goto(f"{live_server.url}/collaborations/")
    page.get_by_text("We are looking for creators with a Spanish audience").wait_for()
    screenshot(page, "collaborations")
    mobile = _browser_page(browser, live_server, creator.user, width=390)
    mobile.goto(f"{live_server.url}/collaborations/")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(mobile, "collaborations-mobile")
    mobile.goto(f"{live_server.url}/campaigns/?q=nothing")
    screenshot(mobile, "marketplace-empty-mobile")
