"""Custom search attributes: what an operator filters registrations by in the Web UI (and what
the service uses to route Twilio events to a registration). No PII: statuses, SIDs and the ISV's
own customer id only."""

from __future__ import annotations

from typing import Final

from temporalio.common import SearchAttributeKey

PHASE: Final = SearchAttributeKey.for_keyword("A2PPhase")
FLOW: Final = SearchAttributeKey.for_keyword("A2PFlow")
ISV_CUSTOMER_ID: Final = SearchAttributeKey.for_keyword("A2PIsvCustomerId")
BRAND_STATUS: Final = SearchAttributeKey.for_keyword("A2PBrandStatus")
IDENTITY_STATUS: Final = SearchAttributeKey.for_keyword("A2PIdentityStatus")
CAMPAIGN_STATUS: Final = SearchAttributeKey.for_keyword("A2PCampaignStatus")
BRAND_SID: Final = SearchAttributeKey.for_keyword("A2PBrandSid")
CAMPAIGN_SID: Final = SearchAttributeKey.for_keyword("A2PCampaignSid")

ALL: Final = (PHASE, FLOW, ISV_CUSTOMER_ID, BRAND_STATUS, IDENTITY_STATUS, CAMPAIGN_STATUS, BRAND_SID, CAMPAIGN_SID)


def dev_server_args() -> list[str]:
    """`temporal server start-dev` arguments that register them."""
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args
