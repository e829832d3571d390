"""Messaging services, their 10DLC number, and the sole proprietor's campaign (Usa2p).

Idempotency (activities/lookup.py; also for a repeated run): a retried service creation lists the
account's services newest first, back to the registration's start, and reuses the one with the same
(deterministic) friendly name; a retried number attachment checks the service's numbers;
a retried campaign creation lists the service's campaigns and reuses the one for the brand (a sole
proprietor brand has one campaign). A campaign update sends the same fields again (idempotent); a
retried delete that finds the campaign gone (404) has nothing left to do."""

from __future__ import annotations

from a2p.calls import (
    AddPhoneNumber, CampaignRef, CampaignState, Call, Created, CreateCampaign,
    CreateMessagingService, FindCampaign, UpdateCampaign,
)
from temporalio import activity
from twilio.base.exceptions import TwilioRestException

from activities.errors import parse_errors, twilio_call
from activities.lookup import find_recent, made_since, may_exist
from activities.twilio_client import TwilioClients


def _campaign_state(campaign, service_sid: str) -> CampaignState:
    return CampaignState(
        sid=campaign.sid, messaging_service_sid=campaign.messaging_service_sid or service_sid,
        status=campaign.campaign_status or "PENDING", errors=parse_errors(campaign.errors),
        campaign_id=campaign.campaign_id,
    )


class CampaignActivities:
    def __init__(self, clients: TwilioClients) -> None:
        self._clients = clients

    def _services(self, subaccount_sid: str | None):
        return self._clients.for_account(subaccount_sid).messaging.v1.services

    @twilio_call(Call.CREATE_MESSAGING_SERVICE)
    async def create_messaging_service(self, req: CreateMessagingService) -> Created:
        services = self._services(req.subaccount_sid)
        if may_exist(req):
            found = await find_recent(services, made_since(req), lambda s: s.friendly_name == req.friendly_name)
            if found is not None:
                return Created(sid=found.sid, reused=True)
        service = await services.create_async(friendly_name=req.friendly_name)
        return Created(sid=service.sid)

    @twilio_call(Call.ADD_PHONE_NUMBER)
    async def add_phone_number(self, req: AddPhoneNumber) -> Created:
        numbers = self._services(req.subaccount_sid)(req.messaging_service_sid).phone_numbers
        if may_exist(req):
            async for found in await numbers.stream_async():
                if found.sid == req.phone_number_sid:
                    return Created(sid=found.sid, reused=True)
        number = await numbers.create_async(phone_number_sid=req.phone_number_sid)
        return Created(sid=number.sid)

    async def _campaign_of(self, subaccount_sid: str | None, service_sid: str, brand_sid: str) -> CampaignState | None:
        async for found in await self._services(subaccount_sid)(service_sid).us_app_to_person.stream_async():
            if found.brand_registration_sid == brand_sid:
                return _campaign_state(found, service_sid)
        return None

    @twilio_call(Call.FIND_CAMPAIGN)
    async def find_campaign(self, req: FindCampaign) -> CampaignState | None:
        return await self._campaign_of(req.subaccount_sid, req.messaging_service_sid, req.brand_sid)

    @twilio_call(Call.CREATE_CAMPAIGN)
    async def create_campaign(self, req: CreateCampaign) -> CampaignState:
        campaigns = self._services(req.subaccount_sid)(req.messaging_service_sid).us_app_to_person
        if may_exist(req):
            found = await self._campaign_of(req.subaccount_sid, req.messaging_service_sid, req.brand_sid)
            if found is not None:
                return found
        campaign = await campaigns.create_async(brand_registration_sid=req.brand_sid, **req.campaign)
        return _campaign_state(campaign, req.messaging_service_sid)

    @twilio_call(Call.FETCH_CAMPAIGN)
    async def fetch_campaign(self, req: CampaignRef) -> CampaignState:
        services = self._services(req.subaccount_sid)
        campaign = await services(req.messaging_service_sid).us_app_to_person(req.campaign_sid).fetch_async()
        return _campaign_state(campaign, req.messaging_service_sid)

    @twilio_call(Call.UPDATE_CAMPAIGN)
    async def update_campaign(self, req: UpdateCampaign) -> CampaignState:
        campaign = self._services(req.subaccount_sid)(req.messaging_service_sid).us_app_to_person(req.campaign_sid)
        return _campaign_state(await campaign.update_async(**req.campaign), req.messaging_service_sid)

    @twilio_call(Call.DELETE_CAMPAIGN)
    async def delete_campaign(self, req: CampaignRef) -> Created:
        campaign = self._services(req.subaccount_sid)(req.messaging_service_sid).us_app_to_person(req.campaign_sid)
        try:
            await campaign.delete_async()
        except TwilioRestException as exc:
            if not (exc.status == 404 and activity.info().attempt > 1):  # an earlier attempt deleted it
                raise
        return Created(sid=req.campaign_sid)
