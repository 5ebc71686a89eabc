"""Brands, their members, campaigns with versioned terms, collaborations and clicks."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from connect.models import CreatorProfile, Niche


class Brand(models.Model):
    """An organization that runs campaigns; its members act for it.

    Unverified brands can draft campaigns but not publish them; staff verify them.
    A suspended brand keeps its data but moves no money and publishes nothing.
    """

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    website = models.URLField(_("website"), max_length=300)
    logo = models.ImageField(_("logo"), upload_to="brand-logos/", blank=True)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    country = CountryField(_("country"))
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    suspended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class BrandRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")


class BrandMembership(models.Model):
    """A user acting for a brand. Owners manage members; managers run campaigns."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="brand_memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=BrandRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("brand", "user", name="campaigns_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.brand} ({self.role})"


class BrandInvitation(models.Model):
    """An emailed invitation to join a brand's team, accepted by following its link."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=BrandRole.choices)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "brand",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="campaigns_brand_invitation_open_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.brand}"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class JoinMode(models.TextChoices):
    OPEN = "open", _("Open: creators join at once")
    APPLICATION = "application", _("Application: you review each creator")
    INVITE_ONLY = "invite_only", _("Invite only")


class CommissionType(models.TextChoices):
    PERCENT = "percent", _("Percent of the order amount")
    FIXED = "fixed", _("Fixed amount per order")


class Campaign(models.Model):
    """A brand's offer to creators. Its commission terms live in `CampaignTerms` versions."""

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        CampaignStatus.DRAFT: {CampaignStatus.ACTIVE},
        CampaignStatus.ACTIVE: {CampaignStatus.PAUSED, CampaignStatus.ENDED},
        CampaignStatus.PAUSED: {CampaignStatus.ACTIVE, CampaignStatus.ENDED},
        CampaignStatus.ENDED: set(),
    }

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="campaigns")
    title = models.CharField(_("title"), max_length=140)
    brief = models.TextField(_("brief"), max_length=20000, blank=True)
    landing_url = models.URLField(_("landing URL"), max_length=500)
    niche = models.ForeignKey(
        Niche, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("niche")
    )
    target_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    join_mode = models.CharField(
        _("join mode"), max_length=16, choices=JoinMode.choices, default=JoinMode.OPEN
    )
    min_followers = models.PositiveBigIntegerField(_("minimum followers"), default=0)
    eligible_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    starts_on = models.DateField(_("start date"), null=True, blank=True)
    ends_on = models.DateField(_("end date"), null=True, blank=True)
    budget_minor = models.BigIntegerField(_("commission budget"), null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(budget_minor__isnull=True) | models.Q(budget_minor__gt=0),
                name="campaigns_campaign_budget_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaigns_campaign_dates_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="campaign_status_pub_idx"),
            models.Index(fields=["brand", "status"], name="campaign_brand_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class CampaignTerms(models.Model):
    """One version of a campaign's commission terms, in force from `effective_from`.

    Versions are appended, never edited: an order earns by the terms in force at its
    `occurred_at`, so creators who joined keep what they agreed to for earlier orders.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="terms")
    effective_from = models.DateTimeField()
    commission_type = models.CharField(max_length=16, choices=CommissionType.choices)
    commission_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    commission_fixed_minor = models.BigIntegerField(null=True, blank=True)
    hold_days = models.PositiveSmallIntegerField(default=30)
    attribution_window_days = models.PositiveSmallIntegerField(default=30)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "-effective_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        commission_type="percent",
                        commission_percent__gt=0,
                        commission_percent__lte=100,
                        commission_fixed_minor__isnull=True,
                    )
                    | models.Q(
                        commission_type="fixed",
                        commission_fixed_minor__gt=0,
                        commission_percent__isnull=True,
                    )
                ),
                name="campaigns_terms_rule_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    hold_days__lte=365,
                    attribution_window_days__gte=1,
                    attribution_window_days__lte=365,
                ),
                name="campaigns_terms_days_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "-effective_from"], name="terms_campaign_from_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} terms from {self.effective_from:%Y-%m-%d %H:%M}"


class CampaignActivePeriod(models.Model):
    """A span of time during which a campaign was active (published and not paused).

    Written only by `campaign_transition`: going active opens a period, pausing or ending
    closes it. Attribution asks whether a campaign was active at an order's time, which the
    current status alone cannot answer once a campaign has been paused and resumed.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="active_periods")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "started_at"]
        constraints = [
            # At most one open period per campaign.
            models.UniqueConstraint(
                "campaign",
                condition=models.Q(ended_at__isnull=True),
                name="campaigns_one_open_active_period",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="campaigns_active_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.started_at:%Y-%m-%d %H:%M} – {self.ended_at or '…'}"


class CollaborationStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    INVITED = "invited", _("Invited")
    ACTIVE = "active", _("Active")
    REJECTED = "rejected", _("Rejected")
    DECLINED = "declined", _("Declined")
    REMOVED = "removed", _("Removed")


class Collaboration(models.Model):
    """A creator's place in a campaign, from application or invitation to active and beyond.

    Only an active collaboration has a tracking code and a discount code. `activated_at` and
    `removed_at` bound when it attributes orders.
    """

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        CollaborationStatus.APPLIED: {CollaborationStatus.ACTIVE, CollaborationStatus.REJECTED},
        CollaborationStatus.INVITED: {CollaborationStatus.ACTIVE, CollaborationStatus.DECLINED},
        CollaborationStatus.ACTIVE: {CollaborationStatus.REMOVED},
        CollaborationStatus.REJECTED: set(),
        CollaborationStatus.DECLINED: set(),
        CollaborationStatus.REMOVED: set(),
    }

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="collaborations")
    # The campaign's brand, kept here so that discount codes are unique per brand by index.
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    creator = models.ForeignKey(
        CreatorProfile, on_delete=models.CASCADE, related_name="collaborations"
    )
    status = models.CharField(max_length=16, choices=CollaborationStatus.choices)
    pitch = models.TextField(_("pitch"), max_length=2000, blank=True)
    decision_reason = models.TextField(_("reason"), max_length=1000, blank=True)
    tracking_code = models.CharField(max_length=16, unique=True, null=True, blank=True)
    # NULL until active: many inactive collaborations share "no code" under the unique index.
    discount_code = models.CharField(_("discount code"), max_length=32, null=True, blank=True)  # noqa: DJ001
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("collaboration")
        verbose_name_plural = _("collaborations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint("campaign", "creator", name="campaigns_collab_unique"),
            models.UniqueConstraint(
                "brand", Lower("discount_code"), name="campaigns_discount_code_brand_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="active")
                | models.Q(
                    tracking_code__isnull=False,
                    discount_code__isnull=False,
                    activated_at__isnull=False,
                ),
                name="campaigns_active_collab_has_codes",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="collab_campaign_status_idx"),
            models.Index(fields=["creator", "status"], name="collab_creator_status_idx"),
            # Order attribution matches a typed code against tracking codes ignoring case.
            models.Index(Lower("tracking_code"), name="collab_tracking_code_ci_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.creator} · {self.campaign}"


class Click(models.Model):
    """A counted visit through a tracking link.

    The table is partitioned by day on `clicked_at` (see migration 0002), so the model is
    unmanaged; rows arrive in batches from Redis, never from the request path. The click id
    is a UUIDv7: its first 48 bits are the click time in milliseconds, so resolving an id
    finds its partition without an index over every day.
    """

    click_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    clicked_at = models.DateTimeField()
    collaboration = models.ForeignKey(
        Collaboration, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    referrer = models.CharField(max_length=400, blank=True)

    class Meta:
        managed = False
        db_table = "campaigns_click"

    def __str__(self) -> str:
        return str(self.click_id)


class ClickDailyCount(models.Model):
    """Clicks per collaboration and day, maintained by the flush in the same transaction
    as the click rows it counts."""

    collaboration = models.ForeignKey(Collaboration, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    clicks = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint("collaboration", "day", name="campaigns_click_daily_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.collaboration_id} {self.day}: {self.clicks}"


class CampaignClickDay(models.Model):
    """Clicks per campaign and day, maintained by the flush with `ClickDailyCount`, so that a
    campaign's dashboard never adds up its collaborations' days."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    day = models.DateField()
    clicks = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # Covering: a brand's dashboard reads a year of its campaigns' days from the
            # index alone.
            models.UniqueConstraint(
                fields=["campaign", "day"],
                include=["clicks"],
                name="campaigns_campaign_click_day_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.day}: {self.clicks}"


class BrandApiKey(models.Model):
    """A key a brand's systems send to the API (`ck_live_<prefix>_<secret>`).

    Only a SHA-256 hash of the secret is stored; the full key is shown once, when created.
    The prefix is public: it finds the row without scanning, and lists name the key by it.
    A revoked key stays for history (and for the audit log) but authenticates nothing.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["brand", "-created_at"], name="api_key_brand_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (ck_live_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
