"""`manage.py seed_demo`: demo accounts so a fresh development database looks like a marketplace.

`make run` calls it on every start, so it is idempotent: whatever already exists is left
alone and only what is missing is created. Creator profiles go through
`connect.services.creator_profile_create`, so the demo data obeys the same rules (handle
format, verified email, social account parsing, audit log) as a real signup.

Later features add their own demo data by appending a step function to `SEED_STEPS`:
a step receives the `SeedContext`, creates what is missing, and reports what it did.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from connect.models import Niche, User
from connect.services import SocialAccountInput, creator_profile_create

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
        """Offer this account in the "Demo logins" block printed at the end."""
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


# Run in order; later features (brands, campaigns, orders, payouts) append their steps.
SEED_STEPS: list[SeedStep] = [seed_admin, seed_creators]


class Command(BaseCommand):
    help = "Create demo accounts (staff admin, creators) for development; safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (a staging copy). Never on production: the demo "
            "password is public.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: refusing to create demo accounts with a public password. "
                "Use --force on a staging database."
            )
        ctx = SeedContext(write=self.stdout.write)
        self.stdout.write("Seeding demo data:")
        for step in SEED_STEPS:
            step(ctx)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        width = max(len(email) for email, _ in ctx.logins)
        for email, description in ctx.logins:
            self.stdout.write(f"  {email.ljust(width)}  {description}")
        self.stdout.write(f"  Password for all: {ctx.password}")
