"""Asynchronous profile reviews: each email and address rejection scenario arrives, with the seed's
failure reason, at a signed status callback; remediation and resubmission; callback retries."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from sandbox import scenarios

from .flows import GOOD_ADDRESS, Customer, starter_profile

_paths = itertools.count()

SUGGESTION = ("Address suggestion -> Street: 1 Jersey St. Secondary Street: Boston, MA 02215-4147. Locality: Boston. "
              "Region: MA. Postal Code: 02215-4147. Country: US")

EMAIL_CASES = [
    ("jane@@example.com", "Email domain has an invalid address syntax."),
    ("jane@nowhere.invalid", "Unknown email domain."),
    ("jane@disposable.test", "Email is a suspected disposable address."),
    ("jane@mailinator.com", "Email is a suspected disposable address."),
    ("jane@bad-mailbox.test", "Email is invalid."),
]
ADDRESS_CASES = [
    ({"iso_country": "FR", "region": "IDF", "postal_code": "75001", "city": "Paris"},
     "The provided address is not a valid US or Canada address"),
    ({"postal_code": "00000"}, "[address_sids] - Invalid Postal Code. " + SUGGESTION + ";"),
    ({"street": "1 Jersey Str"}, "[address_sids] - Invalid Street. " + SUGGESTION),
    ({"city": "Bostun"}, "[address_sids] - Invalid Locality. " + SUGGESTION + ";"),
    ({"region": "MAA"}, "[address_sids] - Invalid Region. " + SUGGESTION + ";"),
    ({"street": "10000 Jersey St"}, "[address_sids] - Invalid House Number"),
]


def _params(request: dict) -> dict:
    return dict(parse_qsl(request["body"].decode(), keep_blank_values=True))


async def _rejected(account, control, receiver, path: str) -> dict:
    await control.advance_clock(3)
    request = receiver.wait_for(lambda r: r["path"] == path and _params(r)["Status"] == "twilio-rejected")
    params = _params(request)
    assert RequestValidator(account.auth_token).validate(request["url"], params,
                                                         request["headers"]["X-Twilio-Signature"])
    assert request["headers"]["I-Twilio-Idempotency-Token"]
    return params


@pytest.mark.parametrize("email,reason", EMAIL_CASES, ids=[e for e, _ in EMAIL_CASES])
async def test_email_rejections(account, control, receiver, email, reason):
    path = f"/email/{next(_paths)}"
    customer = starter_profile(account.client, Customer(), email=email, status_callback=receiver.url(path))
    params = await _rejected(account, control, receiver, path)
    assert params["FailureReason"] == reason
    assert params["BundleSid"] == customer.profile_sid
    profile = account.client.trusthub.v1.customer_profiles(customer.profile_sid).fetch()
    assert profile.status == "twilio-rejected"
    assert profile.errors == [{"code": 30701, "message": reason}]


@pytest.mark.parametrize("change,reason", ADDRESS_CASES, ids=[next(iter(c.values())) for c, _ in ADDRESS_CASES])
async def test_address_rejections(account, control, receiver, change, reason):
    path = f"/address/{next(_paths)}"
    customer = starter_profile(account.client, Customer(), address={**GOOD_ADDRESS, **change},
                               status_callback=receiver.url(path))
    params = await _rejected(account, control, receiver, path)
    assert params["FailureReason"] == reason


async def test_address_not_found_after_the_document_changed(account, control, receiver):
    path = f"/address/{next(_paths)}"
    customer = starter_profile(account.client, Customer(), status_callback=receiver.url(path))
    gone = "AD" + "9" * 32
    account.client.trusthub.v1.supporting_documents(customer.document_sid).update(attributes={"address_sids": gone})
    params = await _rejected(account, control, receiver, path)
    assert params["FailureReason"] == scenarios.address_not_found(gone)


async def test_remediation_fix_and_resubmit_stays_in_review(account, control, receiver):
    client, path = account.client, f"/remedy/{next(_paths)}"
    th = client.trusthub.v1
    bad = {**GOOD_ADDRESS, "street": "1 Jersey Str"}
    customer = starter_profile(client, Customer(), email="jane@disposable.test", address=bad,
                               status_callback=receiver.url(path))
    params = await _rejected(account, control, receiver, path)
    assert params["FailureReason"].startswith("Email is a suspected disposable address.; [address_sids] - Invalid Street")

    # FACTS.md remediation: resend ALL end-user attributes; address: the changed fields only; resubmit
    th.end_users(customer.end_user_sid).update(attributes={"first_name": "Jane", "last_name": "Doe",
                                                            "email": "jane.doe@example.com",
                                                            "phone_number": "+14155550100"})
    client.addresses(customer.address_sid).update(street="1 Jersey St")
    th.customer_profiles(customer.profile_sid).update(email="jane.doe@example.com")
    assert th.customer_profiles(customer.profile_sid).update(status="pending-review").status == "in-review"
    assert th.customer_profiles(customer.profile_sid).fetch().errors is None
    await control.advance_clock(3)
    assert th.customer_profiles(customer.profile_sid).fetch().status == "in-review"
    receiver.wait_for(lambda r: r["path"] == path and len(receiver.matching(path)) >= 3)
    statuses = [_params(r)["Status"] for r in receiver.matching(path)]
    assert statuses == ["in-review", "twilio-rejected", "in-review"]


async def test_status_callbacks_are_retried(account, control, receiver):
    path = f"/retry/{next(_paths)}"
    receiver.fail[path] = 2
    starter_profile(account.client, Customer(), status_callback=receiver.url(path))
    request = receiver.wait_for(lambda r: r["path"] == path)
    assert _params(request)["Status"] == "in-review"
    attempts = [a for a in (await control.webhooks())["attempts"] if a["url"].endswith(path)]
    assert [a["status_code"] for a in attempts] == [503, 503, 204]
    assert len({a["id"] for a in attempts}) == 1


async def test_trust_product_rejected_for_an_identifier_as_brand_name(account, control, receiver, mobile):
    from .flows import trust_product

    path = f"/trust/{next(_paths)}"
    customer = starter_profile(account.client, Customer())
    trust_product(account.client, customer, mobile=mobile, brand_name="jane@example.com",
                  status_callback=receiver.url(path))
    params = await _rejected(account, control, receiver, path)
    assert params["FailureReason"] == scenarios.BRAND_NAME_IDENTIFIER
    assert params["BundleSid"] == customer.trust_sid
