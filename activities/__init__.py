"""The only code that talks to Twilio: one activity per Twilio call, grouped by Twilio API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.addresses import AddressActivities
from activities.brands import BrandActivities
from activities.campaigns import CampaignActivities
from activities.trust_hub import TrustHubActivities
from activities.twilio_client import TwilioClients

__all__ = ["TwilioClients", "registration_activities", "otp_activities"]


def registration_activities(clients: TwilioClients) -> list[Callable[..., Any]]:
    """Every Twilio call except the OTP re-send (which runs on its own rate-limited task queue)."""
    th, ad, br, ca = (TrustHubActivities(clients), AddressActivities(clients),
                      BrandActivities(clients), CampaignActivities(clients))
    return [
        th.create_bundle, th.create_end_user, th.update_end_user, th.create_address_document,
        th.assign_entity, th.list_assigned_end_users, th.evaluate_bundle, th.submit_bundle,
        th.fetch_bundle, th.update_bundle, ad.create_address, ad.update_address, br.register_brand, br.fetch_brand,
        br.update_brand, ca.create_messaging_service, ca.add_phone_number, ca.create_campaign,
        ca.fetch_campaign, ca.find_campaign, ca.update_campaign, ca.delete_campaign,
    ]


def otp_activities(clients: TwilioClients) -> list[Callable[..., Any]]:
    return [BrandActivities(clients).resend_otp]
