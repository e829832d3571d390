"""The peer of item 7: registrations done the way ISVs do them without an orchestrator — a plain
script that walks its customers one after another with the synchronous ``twilio`` SDK, calling
the same endpoints in the same order as a2p-registrar (seed 000 sections 1-4), with the same waits:
the settle wait after each submission, status polls with the same backoff, OTP re-sends every
``otp_resend_interval``. Nothing survives a crash, nothing runs in parallel.

    python -m bench.peer --base-url http://127.0.0.1:8010 --requests customers.json --out times.json

``customers.json``: a JSON array of registration requests (a2p/examples/registration.json's shape,
each with ``messaging_service.phone_number_sid``). ``times.json`` gets, per customer, the seconds
it took and how it ended.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable

from twilio.rest import Client

from a2p.constants import (
    ADDRESS_DOCUMENT_TYPE, BRAND_TYPE_SOLE_PROPRIETOR, SOLE_PROPRIETOR_END_USER_TYPE,
    SOLE_PROPRIETOR_TRUST_POLICY_SID, STARTER_PROFILE_END_USER_TYPE, STARTER_PROFILE_POLICY_SID,
)
from a2p.requests import RegistrationRequest
from a2p.timings import Timings
from sandbox import defaults
from sandbox.testing import twilio_client


class Rejected(Exception):
    pass


def _follow(fetch: Callable[[], Any], done: Callable[[Any], bool], timings: Timings) -> Any:
    """Wait, poll, until done — the same schedule as the workflow's fallback polling."""
    for delay in timings.poll_delays():
        time.sleep(delay.total_seconds())
        current = fetch()
        if done(current):
            return current
    raise AssertionError("unreachable")


def register(client: Client, req: RegistrationRequest, primary_profile_sid: str) -> str:
    """One customer, start to finish; returns the campaign status."""
    c, t, settle = req.customer, req.timings, req.timings.settle_wait.total_seconds()
    name = req.isv_customer_id
    trusthub = client.trusthub.v1

    # 1. Starter customer profile.
    profile = trusthub.customer_profiles.create(
        friendly_name=f"{name} starter customer profile", email=c.email, policy_sid=STARTER_PROFILE_POLICY_SID)
    starter = trusthub.end_users.create(
        friendly_name=f"{name} starter profile end user", type=STARTER_PROFILE_END_USER_TYPE,
        attributes={"first_name": c.first_name, "last_name": c.last_name, "email": c.email,
                    "phone_number": c.business_phone})
    a = c.address
    address = client.addresses.create(
        customer_name=f"{c.first_name} {c.last_name}", street=a.street, street_secondary=a.street_secondary,
        city=a.city, region=a.region, postal_code=a.postal_code, iso_country=a.iso_country,
        friendly_name=f"{name} address", auto_correct_address=False)
    document = trusthub.supporting_documents.create(
        friendly_name=f"{name} address document", type=ADDRESS_DOCUMENT_TYPE,
        attributes={"address_sids": address.sid})
    p = trusthub.customer_profiles(profile.sid)
    for sid in (starter.sid, document.sid, primary_profile_sid):
        p.customer_profiles_entity_assignments.create(object_sid=sid)
    if p.customer_profiles_evaluations.create(policy_sid=STARTER_PROFILE_POLICY_SID).status != "compliant":
        raise Rejected("customer profile noncompliant")
    p.update(status="pending-review")
    time.sleep(settle)
    if p.fetch().status == "twilio-rejected":
        raise Rejected("customer profile rejected")

    # 2. Sole proprietor trust bundle.
    bundle = trusthub.trust_products.create(
        friendly_name=f"{name} sole proprietor trust bundle", email=c.email,
        policy_sid=SOLE_PROPRIETOR_TRUST_POLICY_SID)
    attrs = {"brand_name": c.brand_name, "mobile_phone_number": c.mobile_number}
    if c.vertical:
        attrs["vertical"] = str(c.vertical)
    sole = trusthub.end_users.create(friendly_name=f"{name} sole proprietor end user",
                                     type=SOLE_PROPRIETOR_END_USER_TYPE, attributes=attrs)
    b = trusthub.trust_products(bundle.sid)
    for sid in (sole.sid, profile.sid):
        b.trust_products_entity_assignments.create(object_sid=sid)
    if b.trust_products_evaluations.create(policy_sid=SOLE_PROPRIETOR_TRUST_POLICY_SID).status != "compliant":
        raise Rejected("trust bundle noncompliant")
    b.update(status="pending-review")
    time.sleep(settle)
    if b.fetch().status == "twilio-rejected":
        raise Rejected("trust bundle rejected")

    # 3. Brand, its review, the OTP.
    brands = client.messaging.v1.brand_registrations
    brand = brands.create(customer_profile_bundle_sid=profile.sid, a2p_profile_bundle_sid=bundle.sid,
                          brand_type=BRAND_TYPE_SOLE_PROPRIETOR, mock=req.mock_brand)
    time.sleep(settle)
    brand = _follow(brands(brand.sid).fetch, lambda x: x.status not in ("PENDING", "IN_REVIEW"), t)
    if brand.status != "APPROVED":
        raise Rejected(f"brand {brand.status}")
    sent_at, deadline = time.monotonic(), time.monotonic() + t.otp_deadline.total_seconds()
    while brand.identity_status not in ("VERIFIED", "VETTED_VERIFIED"):
        # Poll with the same backoff; re-send the OTP every otp_resend_interval.
        for delay in t.poll_delays():
            next_resend = sent_at + t.otp_resend_interval.total_seconds()
            time.sleep(max(0.0, min(delay.total_seconds(), next_resend - time.monotonic(),
                                    deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                raise Rejected("OTP not verified before the deadline")
            if time.monotonic() >= next_resend:
                brands(brand.sid).brand_registration_otps.create()
                sent_at = time.monotonic()
            brand = brands(brand.sid).fetch()
            if brand.identity_status in ("VERIFIED", "VETTED_VERIFIED"):
                break

    # 4. Messaging service, number, campaign.
    service = client.messaging.v1.services.create(friendly_name=f"{name} ({req.messaging_service.friendly_name})")
    s = client.messaging.v1.services(service.sid)
    if req.messaging_service.phone_number_sid:
        s.phone_numbers.create(phone_number_sid=req.messaging_service.phone_number_sid)
    time.sleep(settle)
    campaign = s.us_app_to_person.create(brand_registration_sid=brand.sid, **req.campaign.to_twilio_kwargs())
    campaign = _follow(s.us_app_to_person(campaign.sid).fetch,
                       lambda x: x.campaign_status in ("VERIFIED", "FAILED", "SUSPENDED"), t)
    return campaign.campaign_status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.split("\n\n")[0])
    p.add_argument("--base-url", required=True, help="the Twilio API (the sandbox's URL)")
    p.add_argument("--account-sid", default=defaults.PARENT_ACCOUNT_SID)
    p.add_argument("--auth-token", default=defaults.PARENT_AUTH_TOKEN)
    p.add_argument("--primary-profile-sid", default=defaults.PRIMARY_CUSTOMER_PROFILE_SID)
    p.add_argument("--requests", required=True, help="JSON array of registration requests")
    p.add_argument("--out", required=True, help="where to write the per-customer times (JSON)")
    args = p.parse_args(argv)
    requests = [RegistrationRequest.model_validate(r) for r in json.loads(open(args.requests).read())]
    client = twilio_client(args.base_url, args.account_sid, args.auth_token)
    results = []
    for req in requests:
        started = time.monotonic()
        try:
            outcome = register(client, req, args.primary_profile_sid)
        except Exception as err:  # noqa: BLE001 - a bulk script logs and goes on to the next customer
            outcome = f"error: {type(err).__name__}: {err}"
        results.append({"isv_customer_id": req.isv_customer_id, "seconds": time.monotonic() - started,
                        "outcome": outcome})
        with open(args.out, "w") as f:
            json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
