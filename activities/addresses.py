"""API 2010 Addresses: the customer's address for the starter profile's supporting document.

Idempotency (activities/lookup.py): the address carries a deterministic friendly name; a retry
(or a repeated run) first lists the account's addresses filtered by ``FriendlyName``."""

from __future__ import annotations

from a2p.calls import Call, Created, CreateAddress, UpdateAddress
from activities.errors import twilio_call
from activities.lookup import may_exist
from activities.twilio_client import TwilioClients


class AddressActivities:
    def __init__(self, clients: TwilioClients) -> None:
        self._clients = clients

    @twilio_call(Call.CREATE_ADDRESS)
    async def create_address(self, req: CreateAddress) -> Created:
        addresses = self._clients.for_account(req.subaccount_sid).addresses
        if may_exist(req):
            for found in await addresses.list_async(friendly_name=req.friendly_name, limit=1):
                return Created(sid=found.sid, reused=True)
        address = await addresses.create_async(
            customer_name=req.customer_name, street=req.street, city=req.city, region=req.region,
            postal_code=req.postal_code, iso_country=req.iso_country, friendly_name=req.friendly_name,
            street_secondary=req.street_secondary,
            # Keep the address exactly as the customer gave it: TCR validates what we send.
            auto_correct_address=False,
        )
        return Created(sid=address.sid)

    @twilio_call(Call.UPDATE_ADDRESS)
    async def update_address(self, req: UpdateAddress) -> Created:
        # Only the changed fields are sent (FACTS.md, profile remediation).
        client = self._clients.for_account(req.subaccount_sid)
        await client.addresses(req.address_sid).update_async(**req.changes)
        return Created(sid=req.address_sid)
