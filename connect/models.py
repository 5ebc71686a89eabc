"""Accounts, creator profiles and the audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with their email address.

    Roles are not a field: a user is a creator when they have a creator profile, a brand
    member through brand memberships, and staff through `is_staff`.
    """

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    # The language emails are written in: the one the user signed up in, then the one they
    # last chose in the switcher.
    preferred_language = models.CharField(max_length=8, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="connect_user_email_ci_unique"),
        ]
        indexes = [
            # Lists exclude the few inactive users instead of joining every active one.
            models.Index(
                fields=["id"], condition=models.Q(is_active=False), name="user_inactive_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_creator(self) -> bool:
        return hasattr(self, "creator_profile")


class Niche(models.Model):
    """A content category from the managed list (fashion, beauty, gaming...)."""

    slug = models.SlugField(unique=True, max_length=40)
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("niche")
        verbose_name_plural = _("niches")

    def __str__(self) -> str:
        return gettext(self.name)


def avatar_upload_to(instance: CreatorProfile, filename: str) -> str:
    return f"avatars/{filename}"


class CreatorProfile(models.Model):
    """A creator's public identity: handle, display name, audience and niches.

    `max_followers` is a rollup of the largest follower count over the creator's social
    accounts (eligibility is "minimum followers on any platform"); only
    `creator_social_accounts_set` writes it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creator_profile"
    )
    handle = models.CharField(_("handle"), max_length=30)
    display_name = models.CharField(_("display name"), max_length=80)
    bio = models.TextField(_("bio"), max_length=1000, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to=avatar_upload_to, blank=True)
    country = CountryField(_("country"))
    languages = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    niches = models.ManyToManyField(Niche, blank=True, related_name="creators")
    max_followers = models.PositiveBigIntegerField(default=0)
    # Set while staff suspend the creator (see `CreatorSuspension` for the periods).
    suspended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("creator profile")
        verbose_name_plural = _("creator profiles")
        constraints = [
            models.UniqueConstraint(Lower("handle"), name="connect_creator_handle_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(handle__regex=r"^[A-Za-z0-9_]{3,30}$"),
                name="connect_creator_handle_format",
            ),
        ]
        indexes = [
            # The directory searches by substring of name or handle: trigram indexes on the
            # same UPPER() expressions that `icontains` produces.
            GinIndex(
                OpClass(Upper("display_name"), name="gin_trgm_ops"),
                name="creator_display_name_trgm",
            ),
            GinIndex(OpClass(Upper("handle"), name="gin_trgm_ops"), name="creator_handle_trgm"),
            models.Index(fields=["-max_followers", "id"], name="creator_followers_idx"),
            models.Index(fields=["country", "-max_followers"], name="creator_country_idx"),
            models.Index(fields=["-created_at", "id"], name="creator_created_idx"),
            models.Index(fields=["display_name", "id"], name="creator_name_idx"),
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class SocialPlatform(models.TextChoices):
    INSTAGRAM = "instagram", "Instagram"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    X = "x", "X"
    TWITCH = "twitch", "Twitch"
    OTHER = "other", _("Other")


class SocialAccount(models.Model):
    """One of a creator's social accounts, with its audience size."""

    profile = models.ForeignKey(
        CreatorProfile, on_delete=models.CASCADE, related_name="social_accounts"
    )
    platform = models.CharField(_("platform"), max_length=16, choices=SocialPlatform.choices)
    handle = models.CharField(_("handle"), max_length=100)
    url = models.URLField(_("profile URL"), max_length=300)
    follower_count = models.PositiveBigIntegerField(_("followers"))

    class Meta:
        ordering = ["-follower_count", "id"]
        verbose_name = _("social account")
        verbose_name_plural = _("social accounts")
        constraints = [
            models.UniqueConstraint(
                "profile", "platform", Lower("url"), name="connect_social_account_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.handle}"


class CreatorSuspension(models.Model):
    """One period during which staff suspended a creator: their payouts are held and orders
    placed in the period are not attributed to them.

    Periods, not a flag, so that recomputing an old order gives the same answer after the
    creator is reinstated.
    """

    creator = models.ForeignKey(
        CreatorProfile, on_delete=models.CASCADE, related_name="suspensions"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("creator suspension")
        verbose_name_plural = _("creator suspensions")
        constraints = [
            models.UniqueConstraint(
                fields=["creator"],
                condition=models.Q(ended_at__isnull=True),
                name="creator_one_open_suspension",
            ),
        ]

    def __str__(self) -> str:
        return f"suspension of {self.creator_id} from {self.started_at:%Y-%m-%d}"


class AuditEntry(models.Model):
    """One recorded action on money, permissions or identity; written, never edited."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            # The staff page's keyset pagination walks (created_at, id) newest first.
            models.Index(fields=["created_at", "id"], name="audit_created_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class CreatorAccessToken(models.Model):
    """A personal access token with which a creator's own programs read their data through
    the API (`ck_pat_<prefix>_<secret>`, sent as `Authorization: Bearer …`).

    Stored like a brand API key (`connect.secret_keys`): the prefix in clear to find the row,
    only a SHA-256 hash of the secret. The full token is shown once, when created. A revoked
    token stays for history and the audit log but authenticates nothing.
    """

    creator = models.ForeignKey(
        CreatorProfile, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("creator access token")
        verbose_name_plural = _("creator access tokens")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["creator", "-created_at"], name="creator_token_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (ck_pat_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
