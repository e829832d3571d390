"""Trust Hub rules: evaluations that really evaluate, submission guards, parameter validation."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from a2p import constants as c
from sandbox import defaults

from .flows import Customer, last_json, starter_profile, trust_product


def _evaluate(client, profile_sid: str) -> dict:
    client.trusthub.v1.customer_profiles(profile_sid).customer_profiles_evaluations.create(
        policy_sid=c.STARTER_PROFILE_POLICY_SID)
    return last_json(client)


def _by_name(results: list[dict]) -> dict[str, dict]:
    return {r["requirement_name"]: r for r in results}


async def test_empty_profile_is_noncompliant_on_every_requirement(account):
    th = account.client.trusthub.v1
    profile = th.customer_profiles.create(friendly_name="Empty", email="e@example.com",
                                          policy_sid=c.STARTER_PROFILE_POLICY_SID)
    body = _evaluate(account.client, profile.sid)
    assert body["status"] == "noncompliant"
    results = _by_name(body["results"])
    assert set(results) == {"starter_customer_profile_information", "customer_profile_address",
                            "primary_customer_profile"}
    info = results["starter_customer_profile_information"]
    assert info["passed"] is False and info["error_code"] == 22214 and "missing" in info["failure_reason"]
    assert [f["object_field"] for f in info["invalid"]] == ["first_name", "last_name", "email", "phone_number"]
    for entry in info["invalid"]:
        assert set(entry) == {"object_field", "friendly_name", "passed", "failure_reason", "error_code"}
        assert entry["passed"] is False
    assert results["customer_profile_address"]["passed"] is False
    assert results["primary_customer_profile"]["passed"] is False
    # submitting it is refused, naming the failing requirement
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles(profile.sid).update(status="pending-review")
    assert err.value.status == 400 and err.value.code == 22215
    assert "starter_customer_profile_information" in err.value.msg
    assert th.customer_profiles(profile.sid).fetch().status == "draft"


async def test_missing_field_bad_address_and_unassigned_primary(account):
    client = account.client
    th = client.trusthub.v1
    customer = starter_profile(client, Customer(), submit=False)
    # an empty email, a document pointing to an address that does not exist, no primary profile
    th.end_users(customer.end_user_sid).update(attributes={"first_name": "Jane", "last_name": "Doe", "email": "",
                                                            "phone_number": "+14155550100"})
    missing_address = "AD" + "0" * 32
    th.supporting_documents(customer.document_sid).update(attributes={"address_sids": missing_address})
    primary = [a for a in th.customer_profiles(customer.profile_sid).customer_profiles_entity_assignments.list()
               if a.object_sid == defaults.PRIMARY_CUSTOMER_PROFILE_SID][0]
    assert th.customer_profiles(customer.profile_sid).customer_profiles_entity_assignments(primary.sid).delete()

    results = _by_name(_evaluate(client, customer.profile_sid)["results"])
    info = results["starter_customer_profile_information"]
    assert [f["object_field"] for f in info["invalid"]] == ["email"]
    assert [f["object_field"] for f in info["valid"]] == ["first_name", "last_name", "phone_number"]
    address = results["customer_profile_address"]
    assert address["passed"] is False and missing_address in address["invalid"][0]["failure_reason"]
    assert results["primary_customer_profile"]["passed"] is False

    # fix everything -> compliant
    th.end_users(customer.end_user_sid).update(attributes={"first_name": "Jane", "last_name": "Doe",
                                                            "email": "jane@example.com",
                                                            "phone_number": "+14155550100"})
    assert th.end_users(customer.end_user_sid).fetch().attributes["email"] == "jane@example.com"
    th.supporting_documents(customer.document_sid).update(attributes={"address_sids": customer.address_sid})
    th.customer_profiles(customer.profile_sid).customer_profiles_entity_assignments.create(
        object_sid=defaults.PRIMARY_CUSTOMER_PROFILE_SID)
    assert _evaluate(client, customer.profile_sid)["status"] == "compliant"


async def test_trust_product_evaluation(account, mobile):
    client = account.client
    th = client.trusthub.v1
    customer = starter_profile(client, Customer())
    trust = th.trust_products.create(friendly_name="TP", email="jane@example.com",
                                     policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID)
    evaluation = th.trust_products(trust.sid).trust_products_evaluations.create(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID)
    results = _by_name(evaluation.results)
    assert evaluation.status == "noncompliant"
    assert results["sole_proprietor_information"]["passed"] is False
    assert results["customer_profile"]["passed"] is False
    sole_prop = th.end_users.create(friendly_name="SP", type=c.SOLE_PROPRIETOR_END_USER_TYPE,
                                    attributes={"brand_name": "Jane Doe", "mobile_phone_number": mobile,
                                                "vertical": "NOT_A_VERTICAL"})
    th.trust_products(trust.sid).trust_products_entity_assignments.create(object_sid=sole_prop.sid)
    th.trust_products(trust.sid).trust_products_entity_assignments.create(object_sid=customer.profile_sid)
    evaluation = th.trust_products(trust.sid).trust_products_evaluations.create(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID)
    info = _by_name(evaluation.results)["sole_proprietor_information"]
    assert evaluation.status == "noncompliant"
    assert [f["object_field"] for f in info["invalid"]] == ["vertical"]
    # vertical is optional: without it the bundle is compliant
    th.end_users(sole_prop.sid).update(attributes={"brand_name": "Jane Doe", "mobile_phone_number": mobile})
    evaluation = th.trust_products(trust.sid).trust_products_evaluations.create(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID)
    assert evaluation.status == "compliant"
    assert len(th.trust_products(trust.sid).trust_products_evaluations.list()) == 3


async def test_update_rules(account, mobile):
    client = account.client
    th = client.trusthub.v1
    customer = starter_profile(client, Customer())
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles(customer.profile_sid).update(status="pending-review", friendly_name="x")
    assert err.value.code == 22204
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles(customer.profile_sid).update(status="twilio-approved")
    assert err.value.status == 400 and "Status" in err.value.msg
    # other properties may change on their own
    updated = th.customer_profiles(customer.profile_sid).update(friendly_name="Renamed", email="new@example.com")
    assert (updated.friendly_name, updated.email, updated.status) == ("Renamed", "new@example.com", "in-review")
    # an in-review bundle's assignments are locked
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles(customer.profile_sid).customer_profiles_entity_assignments.create(
            object_sid=customer.end_user_sid)
    assert err.value.status == 400
    trust_product(client, customer, mobile=mobile)


async def test_parameter_validation(account):
    th = account.client.trusthub.v1
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles.create(friendly_name="", email="a@example.com", policy_sid=c.STARTER_PROFILE_POLICY_SID)
    assert (err.value.status, err.value.code) == (400, 20001)
    assert "Missing required parameter FriendlyName in the post body" in err.value.msg
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles.create(friendly_name="x", email="a@example.com", policy_sid="RN123")
    assert err.value.status == 400 and "PolicySid" in err.value.msg
    with pytest.raises(TwilioRestException) as err:
        th.trust_products.create(friendly_name="x", email="a@example.com", policy_sid=c.STARTER_PROFILE_POLICY_SID)
    assert err.value.status == 400 and "PolicySid" in err.value.msg
    with pytest.raises(TwilioRestException) as err:
        th.end_users.create(friendly_name="x", type="no_such_type")
    assert err.value.status == 400 and "Type" in err.value.msg
    profile = th.customer_profiles.create(friendly_name="x", email="a@example.com",
                                          policy_sid=c.STARTER_PROFILE_POLICY_SID)
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles(profile.sid).customer_profiles_entity_assignments.create(object_sid="not-a-sid")
    assert err.value.status == 400 and "ObjectSid" in err.value.msg
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles(profile.sid).customer_profiles_entity_assignments.create(object_sid="IT" + "1" * 32)
    assert err.value.status == 400 and "ObjectSid" in err.value.msg
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles("BU" + "f" * 32).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as err:
        th.policies("RN" + "f" * 32).fetch()
    assert err.value.status == 404
    with pytest.raises(TwilioRestException) as err:
        account.client.addresses.create(customer_name="x", street="1 Main St", city="Boston", region="MA",
                                        postal_code="", iso_country="US")
    assert "PostalCode" in err.value.msg


async def test_end_user_update_replaces_attributes_and_address_update_changes_fields(account):
    client = account.client
    th = client.trusthub.v1
    end_user = th.end_users.create(friendly_name="EU", type=c.STARTER_PROFILE_END_USER_TYPE,
                                   attributes={"first_name": "A", "last_name": "B", "email": "a@example.com"})
    updated = th.end_users(end_user.sid).update(attributes={"first_name": "C"})
    assert updated.attributes == {"first_name": "C"}
    address = client.addresses.create(customer_name="Jane Doe", street="1 Jersey Str", city="Boston", region="MA",
                                      postal_code="02215", iso_country="US")
    updated = client.addresses(address.sid).update(street="1 Jersey St")
    assert (updated.street, updated.city, updated.postal_code) == ("1 Jersey St", "Boston", "02215")
    assert client.addresses(address.sid).fetch().street == "1 Jersey St"
