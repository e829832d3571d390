"""Accounts and auth, fault injection, stats, pagination, the async SDK client, SQLite persistence."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import httpx
import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

from a2p import constants as c
from sandbox import defaults
from sandbox.testing import SandboxProcess, twilio_client

from .flows import Customer, registered, starter_profile


def _create_end_user(client, name: str = "EU"):
    return client.trusthub.v1.end_users.create(friendly_name=name, type=c.STARTER_PROFILE_END_USER_TYPE,
                                               attributes={"first_name": "A"})


async def test_authentication(sandbox, account):
    with pytest.raises(TwilioRestException) as err:
        _create_end_user(twilio_client(sandbox.base_url, account.sid, "wrong-token"))
    assert (err.value.status, err.value.code) == (401, 20003)
    with pytest.raises(TwilioRestException) as err:
        _create_end_user(twilio_client(sandbox.base_url, "AC" + "e" * 32, defaults.PARENT_AUTH_TOKEN))
    assert err.value.status == 401
    response = httpx.get(f"{sandbox.base_url}/v1/CustomerProfiles")
    assert response.status_code == 401 and response.json() == {
        "code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401}
    # subaccount_sid:parent_token acts on the subaccount
    as_parent = twilio_client(sandbox.base_url, account.sid, defaults.PARENT_AUTH_TOKEN)
    assert _create_end_user(as_parent).account_sid == account.sid


async def test_resources_are_scoped_to_their_account(sandbox, control, account, client):
    end_user = _create_end_user(account.client)
    other = await control.create_subaccount()
    other_client = twilio_client(sandbox.base_url, other["sid"], other["auth_token"])
    for outsider in (other_client, client):  # another subaccount, and the parent's own Trust Hub
        with pytest.raises(TwilioRestException) as err:
            outsider.trusthub.v1.end_users(end_user.sid).fetch()
        assert (err.value.status, err.value.code) == (404, 20404)
    # API v2010: the parent may act on its subaccount's path; a sibling may not
    address = account.client.addresses.create(customer_name="A", street="1 Jersey St", city="Boston", region="MA",
                                              postal_code="02215", iso_country="US")
    assert client.api.v2010.accounts(account.sid).addresses(address.sid).fetch().sid == address.sid
    with pytest.raises(TwilioRestException) as err:
        other_client.api.v2010.accounts(account.sid).addresses(address.sid).fetch()
    assert err.value.status == 404
    # the primary profile may be assigned in a subaccount, another account's objects may not
    profile = other_client.trusthub.v1.customer_profiles.create(friendly_name="x", email="x@example.com",
                                                                policy_sid=c.STARTER_PROFILE_POLICY_SID)
    assignments = other_client.trusthub.v1.customer_profiles(profile.sid).customer_profiles_entity_assignments
    assignments.create(object_sid=defaults.PRIMARY_CUSTOMER_PROFILE_SID)
    with pytest.raises(TwilioRestException) as err:
        assignments.create(object_sid=end_user.sid)
    assert err.value.status == 400 and "ObjectSid" in err.value.msg


async def test_pagination_follows_next_page_url(account, sandbox):
    for i in range(7):
        _create_end_user(account.client, f"EU {i}")
    end_users = account.client.trusthub.v1.end_users
    listed = end_users.list(page_size=3)
    # Newest first, as Twilio lists (activities/lookup.py relies on it to stop early).
    assert [e.friendly_name for e in listed] == [f"EU {i}" for i in reversed(range(7))]
    page = end_users.page(page_size=3)
    assert page.next_page_url.startswith(sandbox.base_url + "/v1/EndUsers?")
    second = page.next_page()
    assert [e.friendly_name for e in second] == ["EU 3", "EU 2", "EU 1"]
    third = second.next_page()
    assert [e.friendly_name for e in third] == ["EU 0"] and third.next_page_url is None
    assert [e.friendly_name for e in third.previous_page()] == ["EU 3", "EU 2", "EU 1"]
    assert len(end_users.list(limit=5)) == 5
    with pytest.raises(TwilioException, match="PageSize"):
        end_users.page(page_size=1001)


async def test_fault_injection(sandbox, control, account):
    client = account.client
    try:
        await control.set_faults(rate_429=1.0, path_regex="^/v1/EndUsers$")
        before = (await control.resources("end_users", account_sid=account.sid))["count"]
        with pytest.raises(TwilioRestException) as err:
            _create_end_user(client)
        assert (err.value.status, err.value.code) == (429, 20429)
        assert (await control.resources("end_users", account_sid=account.sid))["count"] == before  # never processed

        await control.set_faults(rate_500=1.0, path_regex="^/v1/EndUsers$")
        with pytest.raises(TwilioRestException) as err:
            _create_end_user(client)
        assert err.value.status == 500

        await control.set_faults(latency_ms=300, path_regex="^/v1/EndUsers$")
        start = time.monotonic()
        _create_end_user(client)
        assert time.monotonic() - start >= 0.3

        await control.set_faults(drop_after_commit=1.0, path_regex="^/v1/EndUsers$")
        before = (await control.resources("end_users", account_sid=account.sid))["count"]
        with pytest.raises(requests.exceptions.RequestException):
            _create_end_user(client, "dropped")
        after = (await control.resources("end_users", account_sid=account.sid))["resources"]
        assert len(after) == before + 1 and after[-1]["friendly_name"] == "dropped"  # committed all the same
        async_client = twilio_client(sandbox.base_url, account.sid, account.auth_token, async_http=True)
        try:
            with pytest.raises(aiohttp.ClientError):
                await async_client.trusthub.v1.end_users.create_async(
                    friendly_name="dropped async", type=c.STARTER_PROFILE_END_USER_TYPE)
        finally:
            await async_client.http_client.close()
        # GETs are never dropped
        assert len(client.trusthub.v1.end_users.list()) == before + 2

        await control.set_faults(concurrency_limit=1, latency_ms=300, path_regex="^/v1/EndUsers")
        async with httpx.AsyncClient(auth=(account.sid, account.auth_token)) as http:
            url = f"{sandbox.base_url}/v1/EndUsers"
            answers = await asyncio.gather(http.get(url), http.get(url))
        assert sorted(r.status_code for r in answers) == [200, 429]

        faults = (await control.stats())["faults"]
        assert faults["rate_429"] >= 1 and faults["rate_500"] >= 1 and faults["drop_after_commit"] >= 2
        assert faults["concurrency_429"] >= 1 and faults["latency"] >= 1
    finally:
        await control.clear_faults()


async def test_faults_and_request_log_of_one_account(sandbox, control, account):
    """Faults aimed at one account hold its calls while another account's go through; each
    account's requests are kept in the order they were answered."""
    other = await control.create_subaccount()
    other_client = twilio_client(sandbox.base_url, other["sid"], other["auth_token"])
    try:
        await control.set_faults(account_sid=account.sid, rate_500=1.0, path_regex="^/v1/EndUsers$", methods=["POST"])
        with pytest.raises(TwilioRestException) as err:
            _create_end_user(account.client)
        assert err.value.status == 500
        _create_end_user(other_client)  # the sandbox-wide faults (none) apply to every other account
        account.client.trusthub.v1.end_users.list()  # and to this account's other requests
        faults = await control.faults()
        assert faults["config"]["rate_500"] == 0 and faults["accounts"][account.sid]["rate_500"] == 1.0
    finally:
        await control.clear_faults(account_sid=account.sid)
    assert account.sid not in (await control.faults())["accounts"]
    _create_end_user(account.client)

    log = (await control.requests(account.sid))["requests"]
    assert [(r["endpoint"], r["status"]) for r in log] == [
        ("POST /v1/EndUsers", 500), ("GET /v1/EndUsers", 200), ("POST /v1/EndUsers", 201)]
    answered = [r["answered"] for r in log]  # when each was received and answered, on the sandbox clock
    assert all(0 < r["received"] <= r["answered"] for r in log) and answered == sorted(answered)
    assert [r["endpoint"] for r in (await control.requests(other["sid"]))["requests"]] == ["POST /v1/EndUsers"]


async def test_deterministic_fault_rng(control, account):
    try:
        outcomes = []
        for _ in range(2):
            await control.set_faults(rate_500=0.5, seed=7, path_regex="^/v1/EndUsers$")
            run = []
            for _ in range(8):
                try:
                    _create_end_user(account.client)
                    run.append("ok")
                except TwilioRestException as exc:
                    run.append(exc.status)
            outcomes.append(run)
        assert outcomes[0] == outcomes[1] and "ok" in outcomes[0] and 500 in outcomes[0]
    finally:
        await control.clear_faults()


async def test_stats(control, account):
    before = (await control.stats())["requests"].get("POST /v1/CustomerProfiles/{Sid}/EntityAssignments", {})
    starter_profile(account.client, Customer(), submit=False)
    stats = await control.stats()
    after = stats["requests"]["POST /v1/CustomerProfiles/{Sid}/EntityAssignments"]
    assert after["201"] == before.get("201", 0) + 3
    assert stats["requests"]["POST /2010-04-01/Accounts/{Sid}/Addresses.json"]["201"] >= 1
    assert stats["resources"]["customer_profiles"] >= 2
    # Per account: only what this account authenticated, whatever other tests do meanwhile.
    own = (await control.stats(account.sid))["requests"]
    assert own["POST /v1/CustomerProfiles/{Sid}/EntityAssignments"] == {"201": 3}
    assert own["POST /v1/CustomerProfiles"] == {"201": 1}
    assert (await control.stats("AC" + "0" * 32))["requests"] == {}


async def test_async_sdk_client(sandbox, account):
    client = twilio_client(sandbox.base_url, account.sid, account.auth_token, async_http=True)
    th, msg = client.trusthub.v1, client.messaging.v1
    try:
        profile = await th.customer_profiles.create_async(friendly_name="Async", email="async@example.com",
                                                          policy_sid=c.STARTER_PROFILE_POLICY_SID)
        assert profile.status == "draft"
        end_user = await th.end_users.create_async(
            friendly_name="EU", type=c.STARTER_PROFILE_END_USER_TYPE,
            attributes={"first_name": "A", "last_name": "B", "email": "a@example.com", "phone_number": "+14155550100"})
        address = await client.addresses.create_async(customer_name="A B", street="1 Jersey St", city="Boston",
                                                      region="MA", postal_code="02215", iso_country="US")
        document = await th.supporting_documents.create_async(friendly_name="Addr", type=c.ADDRESS_DOCUMENT_TYPE,
                                                              attributes={"address_sids": address.sid})
        for object_sid in (end_user.sid, document.sid, defaults.PRIMARY_CUSTOMER_PROFILE_SID):
            await th.customer_profiles(profile.sid).customer_profiles_entity_assignments.create_async(
                object_sid=object_sid)
        evaluation = await th.customer_profiles(profile.sid).customer_profiles_evaluations.create_async(
            policy_sid=c.STARTER_PROFILE_POLICY_SID)
        assert evaluation.status == "compliant"
        assert (await th.customer_profiles(profile.sid).update_async(status="pending-review")).status == "in-review"
        listed = await th.customer_profiles.list_async(status="in-review")
        assert profile.sid in [p.sid for p in listed]
        service = await msg.services.create_async(friendly_name="Async service")
        assert (await msg.services(service.sid).fetch_async()).friendly_name == "Async service"
    finally:
        await client.http_client.close()


async def test_sqlite_persistence_across_restart(tmp_path, mobile):
    db = tmp_path / "sandbox.db"
    with SandboxProcess({"brand_review_seconds": 30, "profile_review_seconds": 30}, db_path=db) as process:
        client = process.client()
        customer = registered(client, mobile)
        control = process.sync_control()
        control.advance_clock(10)
        clock = control.clock()
        assert clock["pending_events"] >= 1
        process.restart()
        restarted = process.sync_control()
        assert restarted.clock()["offset_seconds"] == pytest.approx(clock["offset_seconds"])
        assert client.trusthub.v1.customer_profiles(customer.profile_sid).fetch().status == "in-review"
        assert client.messaging.v1.brand_registrations(customer.brand_sid).fetch().status == "PENDING"
        restarted.advance_clock(25)  # the scheduled reviews survived the restart
        assert client.messaging.v1.brand_registrations(customer.brand_sid).fetch().status == "APPROVED"
        assert restarted.otp_messages(to=mobile)["messages"][0]["brand_sid"] == customer.brand_sid
        restarted.reset()
        with pytest.raises(TwilioRestException):
            client.messaging.v1.brand_registrations(customer.brand_sid).fetch()
        assert restarted.resources("customer_profiles")["count"] == 1  # the primary profile


async def test_primary_profile_exists_in_the_parent_account(client):
    primary = client.trusthub.v1.customer_profiles(defaults.PRIMARY_CUSTOMER_PROFILE_SID).fetch()
    assert (primary.status, primary.account_sid) == ("twilio-approved", defaults.PARENT_ACCOUNT_SID)
    policy = client.trusthub.v1.policies(primary.policy_sid).fetch()
    assert policy.friendly_name == "Primary Customer Profile of type Business"


def test_command_line_flags():
    args = ["--brand-review-seconds", "7", "--enforce-otp-deadline", "--event-sink-url", "http://127.0.0.1:9/sink"]
    with SandboxProcess({"otp_validity_seconds": 60}, extra_args=args) as process:
        config = process.sync_control().get_config()
    assert (config["brand_review_seconds"], config["enforce_otp_deadline"]) == (7, True)
    assert (config["event_sink_url"], config["otp_validity_seconds"]) == ("http://127.0.0.1:9/sink", 60)


async def test_api_key_authentication(sandbox, control, account):
    from twilio.rest import Client

    from sandbox.testing import point_client_at

    key = await control.create_api_key(account.sid)
    client = point_client_at(Client(key["sid"], key["secret"], account.sid), sandbox.base_url)
    assert _create_end_user(client).account_sid == account.sid
    assert client.addresses.list() == []
    with pytest.raises(TwilioRestException) as err:
        _create_end_user(point_client_at(Client(key["sid"], "wrong", account.sid), sandbox.base_url))
    assert err.value.status == 401
