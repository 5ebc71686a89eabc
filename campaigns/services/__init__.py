"""Every write for brands, campaigns and collaborations goes through these services."""

from campaigns.services.brands import (
    brand_create,
    brand_invitation_accept,
    brand_member_invite,
    brand_member_remove,
    brand_suspend,
    brand_unsuspend,
    brand_verify,
)
from campaigns.services.campaigns import (
    CampaignInput,
    TermsInput,
    campaign_create,
    campaign_end,
    campaign_pause,
    campaign_publish,
    campaign_resume,
    campaign_transition,
    campaign_update,
)
from campaigns.services.collaborations import (
    collaboration_accept,
    collaboration_accept_invitation,
    collaboration_decline,
    collaboration_invite,
    collaboration_join,
    collaboration_reject,
    collaboration_remove,
    collaboration_set_discount_code,
)

__all__ = [
    "CampaignInput",
    "TermsInput",
    "brand_create",
    "brand_invitation_accept",
    "brand_member_invite",
    "brand_member_remove",
    "brand_suspend",
    "brand_unsuspend",
    "brand_verify",
    "campaign_create",
    "campaign_end",
    "campaign_pause",
    "campaign_publish",
    "campaign_resume",
    "campaign_transition",
    "campaign_update",
    "collaboration_accept",
    "collaboration_accept_invitation",
    "collaboration_decline",
    "collaboration_invite",
    "collaboration_join",
    "collaboration_reject",
    "collaboration_remove",
    "collaboration_set_discount_code",
]
