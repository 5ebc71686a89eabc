"""`manage.py seed_demo`: demo accounts so a fresh development database looks like a marketplace.

`make run` calls it on every start, so it is idempotent: whatever already exists is left
alone and only what is missing is created. Creator profiles go through
`connect.services.creator_profile_create`, so the demo data obeys the same rules (handle
format, verified email, social account parsing, audit log) as a real signup.

Later features add their own demo data by appending a step function to `SEED_STEPS`:
a step receives the `SeedContext`, creates what is missing, and reports what it did.

Brands, campaigns and collaborations go through the campaigns services too (`brand_create`,
`brand_verify` by the staff admin, `campaign_create`, `campaign_publish`,
`collaboration_join`, `collaboration_invite`...), so each one is audited and obeys the
same rules as in the browser. Their emails go wherever email goes on this machine (the
console in development).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from campaigns.models import (
    Brand,
    BrandMembership,
    Campaign,
    CampaignStatus,
    Collaboration,
    CollaborationStatus,
    JoinMode,
)
from campaigns.services import (
    CampaignInput,
    TermsInput,
    brand_create,
    brand_verify,
    campaign_create,
    campaign_pause,
    campaign_publish,
    collaboration_accept,
    collaboration_accept_invitation,
    collaboration_invite,
    collaboration_join,
)
from connect.models import CreatorProfile, Niche, User
from connect.money import format_money, to_minor
from connect.services import SocialAccountInput, creator_profile_create
from dashboards.demo import demo_history_add
from payouts.ingest import order_events_ingest
from payouts.models import LedgerAccountKind, OrderEvent
from payouts.payout_services import payout_minimum_minor
from payouts.processing import commissions_mature, order_events_process_all
from payouts.selectors import creator_balances

# One password for every demo account, printed with the logins: this data is for
# development machines only (the command refuses to run with DEBUG off unless forced).
DEMO_PASSWORD = "connect-demo-2026"  # noqa: S105 - a published demo password, not a secret
DEMO_EMAIL_DOMAIN = "demo.connect"
ADMIN_EMAIL = f"admin@{DEMO_EMAIL_DOMAIN}"
AVATAR_PX = 512
# The "Demo logins" block offers the first demo creator of each of these countries.
LOGIN_COUNTRIES = ("PL", "ES")


@dataclass(frozen=True)
class DemoSocial:
    platform: str
    handle: str
    followers: int


@dataclass(frozen=True)
class DemoCreator:
    """One demo creator: a login, a public profile and its social accounts."""

    email: str
    first_name: str
    last_name: str
    handle: str
    display_name: str
    country: str
    bio: str
    languages: tuple[str, ...]
    niches: tuple[str, ...]
    socials: tuple[DemoSocial, ...]
    color: str

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}{self.last_name[:1]}".upper()


def _email(local_part: str) -> str:
    return f"{local_part}@{DEMO_EMAIL_DOMAIN}"


DEMO_CREATORS: tuple[DemoCreator, ...] = (
    DemoCreator(
        email=_email("ola"),
        first_name="Ola",
        last_name="Kowalska",
        handle="ola_creates",
        display_name="Ola Kowalska",
        country="PL",
        bio="Slow fashion and second-hand finds from Kraków. Capsule wardrobes, honest hauls.",
        languages=("pl", "en"),
        niches=("fashion", "lifestyle"),
        socials=(
            DemoSocial("instagram", "ola.creates", 48_200),
            DemoSocial("tiktok", "ola.creates", 131_000),
        ),
        color="#4f46e5",
    ),
    DemoCreator(
        email=_email("kuba"),
        first_name="Kuba",
        last_name="Nowak",
        handle="kuba_gra",
        display_name="Kuba Nowak",
        country="PL",
        bio="Indie games, retro consoles and the occasional speedrun. Streams from Wrocław.",
        languages=("pl", "en"),
        niches=("gaming", "tech"),
        socials=(
            DemoSocial("twitch", "kuba_gra", 22_500),
            DemoSocial("youtube", "kubagra", 87_300),
            DemoSocial("x", "kuba_gra", 6_100),
        ),
        color="#0f766e",
    ),
    DemoCreator(
        email=_email("zofia"),
        first_name="Zofia",
        last_name="Wiśniewska",
        handle="zosia_gotuje",
        display_name="Zofia Wiśniewska",
        country="PL",
        bio="Polish home cooking made quick: pierogi, soups and weekday dinners under 30 minutes.",
        languages=("pl",),
        niches=("food", "parenting"),
        socials=(
            DemoSocial("instagram", "zosia.gotuje", 215_000),
            DemoSocial("youtube", "zosiagotuje", 64_800),
        ),
        color="#b45309",
    ),
    DemoCreator(
        email=_email("marek"),
        first_name="Marek",
        last_name="Zieliński",
        handle="marek_biega",
        display_name="Marek Zieliński",
        country="PL",
        bio="Marathoner from Gdańsk. Training plans, gear reviews and running on a budget.",
        languages=("pl", "en"),
        niches=("fitness", "sports"),
        socials=(DemoSocial("instagram", "marek.biega", 9_400),),
        color="#be123c",
    ),
    DemoCreator(
        email=_email("lucia"),
        first_name="Lucía",
        last_name="Fernández",
        handle="lucia_cocina",
        display_name="Lucía Fernández",
        country="ES",
        bio="Recetas de mi abuela con un toque moderno. Mediterranean food from Valencia.",
        languages=("es", "en"),
        niches=("food", "travel"),
        socials=(
            DemoSocial("instagram", "lucia.cocina", 302_000),
            DemoSocial("tiktok", "luciacocina", 512_000),
        ),
        color="#c2410c",
    ),
    DemoCreator(
        email=_email("javier"),
        first_name="Javier",
        last_name="Morales",
        handle="javi_tech",
        display_name="Javier Morales",
        country="ES",
        bio="Phones, laptops and smart home gear, tested for real life in Madrid.",
        languages=("es",),
        niches=("tech",),
        socials=(
            DemoSocial("youtube", "javitech", 158_000),
            DemoSocial("x", "javi_tech", 21_700),
        ),
        color="#1d4ed8",
    ),
    DemoCreator(
        email=_email("marta"),
        first_name="Marta",
        last_name="Puig",
        handle="marta_viatja",
        display_name="Marta Puig",
        country="ES",
        bio="Weekend trips by train from Barcelona: Catalonia, the Pyrenees and beyond.",
        languages=("ca", "es", "en"),
        niches=("travel", "lifestyle"),
        socials=(
            DemoSocial("instagram", "marta.viatja", 36_900),
            DemoSocial("tiktok", "martaviatja", 18_200),
        ),
        color="#047857",
    ),
    DemoCreator(
        email=_email("carmen"),
        first_name="Carmen",
        last_name="Ruiz",
        handle="carmen_glow",
        display_name="Carmen Ruiz",
        country="ES",
        bio="Skincare for sensitive skin and everyday makeup. Sevilla, sun and SPF.",
        languages=("es",),
        niches=("beauty",),
        socials=(
            DemoSocial("tiktok", "carmen.glow", 276_000),
            DemoSocial("instagram", "carmen.glow", 89_000),
        ),
        color="#db2777",
    ),
    DemoCreator(
        email=_email("lena"),
        first_name="Lena",
        last_name="Becker",
        handle="lena_zuhause",
        display_name="Lena Becker",
        country="DE",
        bio="Small flats, big ideas: DIY, plants and renter-friendly interiors from Berlin.",
        languages=("de", "en"),
        niches=("home", "lifestyle"),
        socials=(DemoSocial("instagram", "lena.zuhause", 71_500),),
        color="#7c3aed",
    ),
    DemoCreator(
        email=_email("camille"),
        first_name="Camille",
        last_name="Laurent",
        handle="camille_style",
        display_name="Camille Laurent",
        country="FR",
        bio="Parisian street style, vintage markets and a love of good tailoring.",
        languages=("fr", "en"),
        niches=("fashion", "beauty"),
        socials=(
            DemoSocial("instagram", "camille.style", 124_000),
            DemoSocial("tiktok", "camille.style", 67_000),
        ),
        color="#9d174d",
    ),
    DemoCreator(
        email=_email("giulia"),
        first_name="Giulia",
        last_name="Romano",
        handle="giulia_pets",
        display_name="Giulia Romano",
        country="IT",
        bio="Two rescue dogs, one cat and a lot of training tips. Based in Bologna.",
        languages=("it", "en"),
        niches=("pets",),
        socials=(
            DemoSocial("instagram", "giulia.pets", 54_300),
            DemoSocial("youtube", "giuliapets", 12_900),
        ),
        color="#a16207",
    ),
    DemoCreator(
        email=_email("ines"),
        first_name="Inês",
        last_name="Carvalho",
        handle="ines_financas",
        display_name="Inês Carvalho",
        country="PT",
        bio="Personal finance without jargon: budgets, saving and investing basics from Lisbon.",
        languages=("pt", "en"),
        niches=("finance", "education"),
        socials=(
            DemoSocial("youtube", "inesfinancas", 41_200),
            DemoSocial("instagram", "ines.financas", 28_800),
        ),
        color="#0e7490",
    ),
)


@dataclass
class SeedContext:
    """What the steps share: where to write, the demo password and the logins to print."""

    write: Callable[[str], None]
    password: str = DEMO_PASSWORD
    logins: list[tuple[str, str]] = field(default_factory=list)

    def add_login(self, email: str, description: str) -> None:
        """Offer this account in the "Demo logins" block printed at the end; a second
        description of the same account is added to its line."""
        for index, (known, described) in enumerate(self.logins):
            if known == email:
                self.logins[index] = (email, f"{described}; {description}")
                return
        self.logins.append((email, description))

    def report(self, what: str, *, total: int, created: int) -> None:
        self.write(f"  {what}: {total} ({created} new)")


SeedStep = Callable[[SeedContext], None]


def demo_user_ensure(
    *, email: str, password: str, first_name: str = "", last_name: str = "", staff: bool = False
) -> tuple[User, bool]:
    """Return the demo user for `email`, creating it (with a verified primary email address)
    if missing. An existing user keeps its password: a developer may have changed it."""
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
        create = User.objects.create_superuser if staff else User.objects.create_user
        user = create(email=email, password=password, first_name=first_name, last_name=last_name)
    elif staff and not (user.is_staff and user.is_superuser):
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    elif not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])
    return user, created


def avatar_png(initials: str, color: str) -> SimpleUploadedFile:
    """A square in the creator's color with their initials: enough to make the directory
    look alive without shipping photos of real people."""
    image = Image.new("RGB", (AVATAR_PX, AVATAR_PX), color)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=AVATAR_PX * 2 // 5)
    draw.text((AVATAR_PX / 2, AVATAR_PX / 2), initials, fill="white", font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return SimpleUploadedFile("avatar.png", out.getvalue(), content_type="image/png")


def seed_admin(ctx: SeedContext) -> None:
    """A staff superuser, for the Django admin."""
    _, created = demo_user_ensure(email=ADMIN_EMAIL, password=ctx.password, staff=True)
    ctx.report("staff admin", total=1, created=int(created))
    ctx.add_login(ADMIN_EMAIL, "staff, Django admin at /admin/")


def seed_creators(ctx: SeedContext) -> None:
    """Creators with verified emails, avatars, niches and social accounts."""
    niches = {niche.slug: niche for niche in Niche.objects.all()}
    created = 0
    for creator in DEMO_CREATORS:
        with transaction.atomic():
            user, _ = demo_user_ensure(
                email=creator.email,
                password=ctx.password,
                first_name=creator.first_name,
                last_name=creator.last_name,
            )
            if hasattr(user, "creator_profile"):
                continue
            try:
                creator_profile_create(
                    user=user,
                    handle=creator.handle,
                    display_name=creator.display_name,
                    country=creator.country,
                    bio=creator.bio,
                    languages=creator.languages,
                    niches=[niches[slug] for slug in creator.niches if slug in niches],
                    avatar=avatar_png(creator.initials, creator.color),
                    social_accounts=[
                        SocialAccountInput(s.platform, s.handle, s.followers)
                        for s in creator.socials
                    ],
                )
            except ValidationError as exc:
                # Most likely someone signed up with this handle on this database: seeding
                # goes on without this one rather than failing `make run`.
                ctx.write(f"  skipped @{creator.handle}: {'; '.join(exc.messages)}")
                continue
            created += 1
    ctx.report("creators", total=len(DEMO_CREATORS), created=created)
    for country in LOGIN_COUNTRIES:
        creator = next(c for c in DEMO_CREATORS if c.country == country)
        ctx.add_login(creator.email, f"creator @{creator.handle} ({country})")


@dataclass(frozen=True)
class DemoBrand:
    """A verified demo brand and its owner's login, `brand-owner@<slug>.demo`."""

    slug: str
    name: str
    website: str
    country: str
    description: str
    owner_first_name: str
    owner_last_name: str
    color: str

    @property
    def owner_email(self) -> str:
        return f"brand-owner@{self.slug}.demo"

    @property
    def initials(self) -> str:
        return "".join(word[:1] for word in self.name.split()[:2]).upper()


@dataclass(frozen=True)
class DemoCollaboration:
    """A demo creator's place in a demo campaign: active (with codes), applied or invited."""

    handle: str
    status: str
    pitch: str = ""


@dataclass(frozen=True)
class DemoCampaign:
    """A demo campaign; `status` is where it ends up after its collaborations are made."""

    brand: str
    title: str
    brief: str
    landing_url: str
    niche: str
    currency: str
    join_mode: str
    status: str
    commission_percent: str | None = None
    commission_fixed: str | None = None
    hold_days: int = 30
    attribution_window_days: int = 30
    target_countries: tuple[str, ...] = ()
    eligible_countries: tuple[str, ...] = ()
    min_followers: int = 0
    budget: str | None = None
    collaborations: tuple[DemoCollaboration, ...] = ()


DEMO_BRANDS: tuple[DemoBrand, ...] = (
    DemoBrand(
        slug="moda-wisla",
        name="Moda Wisła",
        website="https://moda-wisla.example.com",
        country="PL",
        description="Everyday clothes sewn in Łódź from European fabrics. Prices in złoty.",
        owner_first_name="Anna",
        owner_last_name="Lewandowska",
        color="#7c2d12",
    ),
    DemoBrand(
        slug="sol-cosmetica",
        name="Sol Cosmética",
        website="https://sol-cosmetica.example.com",
        country="ES",
        description="Mineral sun care and gentle skincare from Valencia.",
        owner_first_name="Elena",
        owner_last_name="García",
        color="#ca8a04",
    ),
    DemoBrand(
        slug="hory-outdoor",
        name="Hory Outdoor",
        website="https://hory-outdoor.example.com",
        country="CZ",
        description="Running and hiking gear from Brno, shipped across Europe and the US.",
        owner_first_name="Petr",
        owner_last_name="Novák",
        color="#166534",
    ),
)

ACTIVE = CollaborationStatus.ACTIVE
APPLIED = CollaborationStatus.APPLIED
INVITED = CollaborationStatus.INVITED
# The demo creator whose earnings are approved (a campaign without hold), so a payout can be
# tried right after connecting Stripe.
PAYOUT_DEMO_HANDLE = "lucia_cocina"

DEMO_CAMPAIGNS: tuple[DemoCampaign, ...] = (
    DemoCampaign(
        brand="moda-wisla",
        title="Spring capsule wardrobe",
        brief="Style five pieces from the spring collection into a week of outfits.",
        landing_url="https://moda-wisla.example.com/spring",
        niche="fashion",
        currency="PLN",
        join_mode=JoinMode.OPEN,
        status=CampaignStatus.ACTIVE,
        commission_percent="12.50",
        target_countries=("PL",),
        budget="20000.00",
        collaborations=(
            DemoCollaboration("ola_creates", ACTIVE),
            DemoCollaboration("camille_style", ACTIVE),
        ),
    ),
    DemoCampaign(
        brand="moda-wisla",
        title="Autumn coats lookbook",
        brief="A lookbook of our wool coats on rainy city streets. Tell us your idea.",
        landing_url="https://moda-wisla.example.com/coats",
        niche="fashion",
        currency="PLN",
        join_mode=JoinMode.APPLICATION,
        status=CampaignStatus.ACTIVE,
        commission_percent="15.00",
        hold_days=45,
        min_followers=20_000,
        collaborations=(
            DemoCollaboration(
                "lucia_cocina",
                APPLIED,
                pitch="Autumn city breaks are my most-watched series: a coat that looks "
                "good at a market stall and keeps the rain off fits right in.",
            ),
        ),
    ),
    DemoCampaign(
        brand="moda-wisla",
        title="Winter sale preview",
        brief="Early access to the winter sale for your audience.",
        landing_url="https://moda-wisla.example.com/winter",
        niche="fashion",
        currency="PLN",
        join_mode=JoinMode.OPEN,
        status=CampaignStatus.DRAFT,
        commission_fixed="25.00",
    ),
    DemoCampaign(
        brand="sol-cosmetica",
        title="SPF for sensitive skin",
        brief="Show your morning routine with our mineral SPF 50.",
        landing_url="https://sol-cosmetica.example.com/spf50",
        niche="beauty",
        currency="EUR",
        join_mode=JoinMode.OPEN,
        status=CampaignStatus.ACTIVE,
        commission_percent="10.00",
        target_countries=("ES", "PT", "FR"),
        budget="5000.00",
        collaborations=(
            DemoCollaboration("carmen_glow", ACTIVE),
            DemoCollaboration("lucia_cocina", ACTIVE),
        ),
    ),
    DemoCampaign(
        brand="sol-cosmetica",
        title="Glow ambassadors",
        brief="A small circle of creators who get every launch first.",
        landing_url="https://sol-cosmetica.example.com/glow",
        niche="beauty",
        currency="EUR",
        join_mode=JoinMode.INVITE_ONLY,
        status=CampaignStatus.ACTIVE,
        commission_fixed="8.00",
        min_followers=50_000,
        collaborations=(DemoCollaboration("ola_creates", INVITED),),
    ),
    DemoCampaign(
        brand="hory-outdoor",
        title="Trail running kit",
        brief="Run your favourite trail in our kit and tell your followers how it held up.",
        landing_url="https://hory-outdoor.example.com/trail",
        niche="sports",
        currency="CZK",
        join_mode=JoinMode.OPEN,
        status=CampaignStatus.PAUSED,
        commission_fixed="150.00",
        target_countries=("CZ", "PL", "SK"),
        collaborations=(DemoCollaboration("marek_biega", ACTIVE),),
    ),
    DemoCampaign(
        brand="hory-outdoor",
        title="Hiking trips abroad",
        brief="Our US shop ships hiking gear worldwide: pack it for your next trip.",
        landing_url="https://hory-outdoor.example.com/us/hiking",
        niche="travel",
        currency="USD",
        join_mode=JoinMode.OPEN,
        status=CampaignStatus.ACTIVE,
        commission_percent="8.00",
        attribution_window_days=14,
        collaborations=(DemoCollaboration("marta_viatja", ACTIVE),),
    ),
    DemoCampaign(
        brand="hory-outdoor",
        title="City break daypacks",
        brief="Take our daypack on a weekend city break. Packs are final sale, so commissions "
        "are approved as soon as the order is paid.",
        landing_url="https://hory-outdoor.example.com/daypacks",
        niche="travel",
        currency="EUR",
        join_mode=JoinMode.OPEN,
        status=CampaignStatus.ACTIVE,
        commission_fixed="12.00",
        # No hold: the demo creator below has approved earnings to pay out at once.
        hold_days=0,
        target_countries=("ES", "PT"),
        collaborations=(DemoCollaboration(PAYOUT_DEMO_HANDLE, ACTIVE),),
    ),
)


def seed_brands(ctx: SeedContext) -> None:
    """Verified brands, each with an owner who can sign in."""
    admin = User.objects.filter(email__iexact=ADMIN_EMAIL).first()
    created = 0
    for demo in DEMO_BRANDS:
        with transaction.atomic():
            owner, _ = demo_user_ensure(
                email=demo.owner_email,
                password=ctx.password,
                first_name=demo.owner_first_name,
                last_name=demo.owner_last_name,
            )
            brand = Brand.objects.filter(slug=demo.slug).first()
            if brand is None:
                brand = brand_create(
                    user=owner,
                    name=demo.name,
                    slug=demo.slug,
                    website=demo.website,
                    country=demo.country,
                    description=demo.description,
                    logo=avatar_png(demo.initials, demo.color),
                )
                created += 1
            elif not BrandMembership.objects.filter(brand=brand, user=owner).exists():
                # Someone registered this address on this database: leave their brand alone.
                ctx.write(f"  skipped brand {demo.slug}: the address belongs to another brand")
                continue
            if admin is not None:
                brand_verify(brand=brand, actor=admin)
        ctx.add_login(demo.owner_email, f"brand owner, {demo.name}")
    ctx.report("brands", total=len(DEMO_BRANDS), created=created)


def _demo_inputs(demo: DemoCampaign) -> tuple[CampaignInput, TermsInput]:
    niche = Niche.objects.get(slug=demo.niche)
    data = CampaignInput(
        title=demo.title,
        brief=demo.brief,
        landing_url=demo.landing_url,
        niche=niche,
        currency=demo.currency,
        target_countries=list(demo.target_countries),
        join_mode=demo.join_mode,
        min_followers=demo.min_followers,
        eligible_countries=list(demo.eligible_countries),
        budget_minor=to_minor(demo.budget, demo.currency) if demo.budget else None,
    )
    terms = TermsInput(
        commission_type="percent" if demo.commission_percent else "fixed",
        commission_percent=Decimal(demo.commission_percent) if demo.commission_percent else None,
        commission_fixed_minor=(
            to_minor(demo.commission_fixed, demo.currency) if demo.commission_fixed else None
        ),
        hold_days=demo.hold_days,
        attribution_window_days=demo.attribution_window_days,
    )
    return data, terms


def _demo_collaboration(
    *, campaign: Campaign, creator: CreatorProfile, demo: DemoCollaboration, owner: User
) -> None:
    """Bring one creator to the demo status the way people would: join or apply (then the
    brand accepts), or the brand invites (then the creator accepts)."""
    if campaign.join_mode == JoinMode.INVITE_ONLY or demo.status == INVITED:
        collaboration = collaboration_invite(campaign=campaign, creator=creator, actor=owner)
        if demo.status == ACTIVE:
            collaboration_accept_invitation(collaboration=collaboration, actor=creator.user)
        return
    collaboration = collaboration_join(campaign=campaign, creator=creator, pitch=demo.pitch)
    if demo.status == ACTIVE and collaboration.status == APPLIED:
        collaboration_accept(collaboration=collaboration, actor=owner)


def seed_campaigns(ctx: SeedContext) -> None:
    """Campaigns across currencies and join modes (one draft, one paused) and demo
    creators in them: active with codes, one application with a pitch, one invitation."""
    brands = {
        brand.slug: brand for brand in Brand.objects.filter(slug__in=[b.slug for b in DEMO_BRANDS])
    }
    owners = {b.slug: User.objects.filter(email__iexact=b.owner_email).first() for b in DEMO_BRANDS}
    creators = {
        profile.handle.lower(): profile
        for profile in CreatorProfile.objects.filter(
            user__email__in=[c.email for c in DEMO_CREATORS]
        ).select_related("user")
    }
    campaigns_created = collaborations_created = 0
    collaborations_total = sum(len(c.collaborations) for c in DEMO_CAMPAIGNS)
    for demo in DEMO_CAMPAIGNS:
        brand, owner = brands.get(demo.brand), owners.get(demo.brand)
        if brand is None or owner is None or not brand.memberships.filter(user=owner).exists():
            continue
        with transaction.atomic():
            campaign = Campaign.objects.filter(brand=brand, title=demo.title).first()
            new = campaign is None
            if campaign is None:
                data, terms = _demo_inputs(demo)
                campaign = campaign_create(brand=brand, actor=owner, data=data, terms=terms)
                if demo.status != CampaignStatus.DRAFT:
                    campaign = campaign_publish(campaign=campaign, actor=owner)
                campaigns_created += 1
            for collaboration in demo.collaborations:
                creator = creators.get(collaboration.handle)
                if creator is None:  # skipped: someone else took the handle
                    continue
                if Collaboration.objects.filter(campaign=campaign, creator=creator).exists():
                    continue
                takes_creators = campaign.status == CampaignStatus.ACTIVE or (
                    collaboration.status == INVITED and campaign.status != CampaignStatus.ENDED
                )
                if not takes_creators:  # someone paused or ended it since the first run
                    continue
                _demo_collaboration(
                    campaign=campaign, creator=creator, demo=collaboration, owner=owner
                )
                collaborations_created += 1
            if new and demo.status == CampaignStatus.PAUSED:
                campaign_pause(campaign=campaign, actor=owner)
    ctx.report("campaigns", total=len(DEMO_CAMPAIGNS), created=campaigns_created)
    ctx.report("collaborations", total=collaborations_total, created=collaborations_created)


# Each active demo collaboration gets this many orders; every few are refunded or cancelled.
DEMO_ORDERS_PER_COLLABORATION = 8


def _demo_amount(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _demo_order_events(collaboration: Collaboration, now: dt.datetime) -> list[dict[str, Any]]:
    """A collaboration's demo orders as the brand's shop would send them: paid orders with
    the creator's discount code, spread since the collaboration began (at most 20 days), a
    partial refund, a cancellation, and one order with a code nobody has."""
    assert collaboration.activated_at is not None
    span = min(now - collaboration.activated_at, dt.timedelta(days=20))
    currency = collaboration.campaign.currency
    events: list[dict[str, Any]] = []
    for n in range(DEMO_ORDERS_PER_COLLABORATION):
        order_id = f"DEMO-{collaboration.pk}-{n + 1:03d}"
        occurred = now - span * (DEMO_ORDERS_PER_COLLABORATION - n) / (
            DEMO_ORDERS_PER_COLLABORATION + 1
        )
        amount = 2_000 + (collaboration.pk * 7_919 + n * 3_571) % 18_000
        code = collaboration.discount_code if n != 5 else "NOT-A-CODE"
        events.append(
            {
                "id": f"{order_id}-paid",
                "type": "order.paid",
                "order_id": order_id,
                "occurred_at": occurred.isoformat(),
                "amount": _demo_amount(amount),
                "currency": currency,
                "code": code,
            }
        )
        if n == 2:
            events.append(
                {
                    "id": f"{order_id}-refund",
                    "type": "order.refunded",
                    "order_id": order_id,
                    "occurred_at": min(occurred + dt.timedelta(hours=30), now).isoformat(),
                    "amount": _demo_amount(amount // 4),
                    "currency": currency,
                }
            )
        if n == 6:
            events.append(
                {
                    "id": f"{order_id}-cancel",
                    "type": "order.cancelled",
                    "order_id": order_id,
                    "occurred_at": min(occurred + dt.timedelta(hours=2), now).isoformat(),
                    "currency": currency,
                }
            )
    return events


def seed_orders(ctx: SeedContext) -> None:
    """Orders for the demo brands' active collaborations, through the same ingest and
    processing as the API, so the earnings, event log and ledger are real. A collaboration
    that already has demo orders is left alone (so restarts do not fill the log with
    duplicates). Then the commissions whose hold has passed are approved, as the periodic
    maturation task does: those of the campaign without hold at once."""
    now = timezone.now()
    brands = Brand.objects.filter(slug__in=[b.slug for b in DEMO_BRANDS])
    sent = 0
    for brand in brands:
        collaborations = Collaboration.objects.filter(
            brand=brand,
            status=CollaborationStatus.ACTIVE,
            campaign__status=CampaignStatus.ACTIVE,
        ).select_related("campaign")
        events = [
            e
            for c in collaborations
            if not OrderEvent.objects.filter(
                brand=brand, order_id__startswith=f"DEMO-{c.pk}-"
            ).exists()
            for e in _demo_order_events(c, now)
        ]
        if events:
            order_events_ingest(brand=brand, events=events)
            sent += len(events)
    processed = order_events_process_all()
    approved = commissions_mature()
    total = OrderEvent.objects.filter(order_id__startswith="DEMO-").count()
    ctx.report("order events", total=total, created=sent)
    ctx.write(f"  order events processed now: {processed}")
    ctx.write(f"  commissions approved now: {approved}")


def seed_payout_creator(ctx: SeedContext) -> None:
    """Say which demo creator can request a payout: one with approved earnings at least the
    currency's payout minimum (after connecting Stripe, which they do in the browser)."""
    creator = (
        CreatorProfile.objects.filter(
            handle__iexact=PAYOUT_DEMO_HANDLE, user__email__in=[c.email for c in DEMO_CREATORS]
        )
        .select_related("user")
        .first()
    )
    if creator is None:
        return
    ready = [
        (currency, kinds.get(LedgerAccountKind.CREATOR_AVAILABLE, 0))
        for currency, kinds in sorted(creator_balances(creator).items())
        if kinds.get(LedgerAccountKind.CREATOR_AVAILABLE, 0) >= payout_minimum_minor(currency)
    ]
    if not ready:
        ctx.write(f"  payouts: @{creator.handle} has no approved earnings to pay out")
        return
    amounts = ", ".join(format_money(amount, currency, "en") for currency, amount in ready)
    ctx.write(f"  payouts: @{creator.handle} has {amounts} approved to pay out")
    ctx.add_login(creator.user.email, f"{amounts} approved: connect Stripe, request a payout")


def seed_history(ctx: SeedContext) -> None:
    """With --history: 90 days of clicks and orders before today for the active demo
    collaborations, so the dashboards' charts have a past (see dashboards/demo.py)."""
    result = demo_history_add(brand_slugs=[b.slug for b in DEMO_BRANDS])
    ctx.write(
        f"  history: {result.collaborations} collaborations given {result.clicks} clicks "
        f"and {result.events} order events; {result.approved} commissions approved"
    )


# Run in order; later features (payouts) append their steps.
SEED_STEPS: list[SeedStep] = [
    seed_admin,
    seed_creators,
    seed_brands,
    seed_campaigns,
    seed_orders,
    seed_payout_creator,
]


class Command(BaseCommand):
    help = (
        "Create demo data (staff admin, creators, brands, campaigns, collaborations) for "
        "development; safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (a staging copy). Never on production: the demo "
            "password is public.",
        )
        parser.add_argument(
            "--history",
            action="store_true",
            help="Also give the active demo collaborations 90 days of clicks and orders "
            "before today, so the dashboards' charts have a past.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: refusing to create demo accounts with a public password. "
                "Use --force on a staging database."
            )
        ctx = SeedContext(write=self.stdout.write)
        self.stdout.write("Seeding demo data:")
        steps = list(SEED_STEPS)
        if options["history"]:
            # Before the payout step, so that it names what the history approved too.
            at = steps.index(seed_payout_creator) if seed_payout_creator in steps else len(steps)
            steps.insert(at, seed_history)
        for step in steps:
            step(ctx)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        width = max(len(email) for email, _ in ctx.logins)
        for email, description in ctx.logins:
            self.stdout.write(f"  {email.ljust(width)}  {description}")
        self.stdout.write(f"  Password for all: {ctx.password}")
