"""Configuration: every problem named by its environment variable, before anything starts."""

from __future__ import annotations

import pytest

from infra.settings import SettingsError, load_settings
from infra.temporal_client import _security

GOOD = dict(twilio_account_sid="AC" + "0" * 32, twilio_auth_token="token",
            a2p_primary_customer_profile_sid="BU" + "1" * 32)


def test_missing_and_bad_settings_are_all_named(monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "A2P_PRIMARY_CUSTOMER_PROFILE_SID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None, twilio_api_base_url="ftp://x")
    assert str(err.value).splitlines() == [
        "invalid configuration:",
        "  set TWILIO_ACCOUNT_SID, A2P_PRIMARY_CUSTOMER_PROFILE_SID and TWILIO_AUTH_TOKEN "
        "(or both TWILIO_API_KEY and TWILIO_API_SECRET)",
        "  TWILIO_API_BASE_URL: must be an http(s) URL"]


def test_everything_missing_is_named_in_one_line_in_one_round(monkeypatch):
    """Twilio's credentials with the rest: not in a second round once the others are set."""
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET",
                 "A2P_PRIMARY_CUSTOMER_PROFILE_SID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)
    assert str(err.value) == ("invalid configuration: set TWILIO_ACCOUNT_SID, A2P_PRIMARY_CUSTOMER_PROFILE_SID and "
                              "TWILIO_AUTH_TOKEN (or both TWILIO_API_KEY and TWILIO_API_SECRET)")
    monkeypatch.setenv("TWILIO_API_KEY", "SK" + "0" * 32)  # a key without its secret is not enough
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None, twilio_account_sid=GOOD["twilio_account_sid"])
    assert str(err.value) == ("invalid configuration: set A2P_PRIMARY_CUSTOMER_PROFILE_SID and "
                              "TWILIO_AUTH_TOKEN (or both TWILIO_API_KEY and TWILIO_API_SECRET)")
    monkeypatch.setenv("TWILIO_API_SECRET", "s3cr3t")
    assert load_settings(_env_file=None, **(GOOD | {"twilio_auth_token": None})).twilio_api_key == "SK" + "0" * 32


@pytest.mark.parametrize("change, expected", [
    ({"twilio_account_sid": "AC123"}, "TWILIO_ACCOUNT_SID: must be an account SID"),
    ({"a2p_primary_customer_profile_sid": "RN" + "0" * 32}, "A2P_PRIMARY_CUSTOMER_PROFILE_SID: must be a customer profile"),
    ({"twilio_auth_token": None}, r"^invalid configuration: set TWILIO_AUTH_TOKEN \(or both TWILIO_API_KEY and "
                                  r"TWILIO_API_SECRET\)$"),
    ({"twilio_api_key": "KEY"}, "TWILIO_API_KEY: must be an API key SID"),
    ({"log_level": "LOUD"}, "LOG_LEVEL"),
    ({"a2p_max_cached_workflows": 50}, "A2P_MAX_CACHED_WORKFLOWS"),
])
def test_each_rule_names_its_variable(change, expected):
    with pytest.raises(SettingsError, match=expected):
        load_settings(_env_file=None, **(GOOD | change))


def test_environment_is_read_and_defaults_work(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", GOOD["twilio_account_sid"])
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "s3cr3t-token")
    monkeypatch.setenv("A2P_PRIMARY_CUSTOMER_PROFILE_SID", GOOD["a2p_primary_customer_profile_sid"])
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:8010/")
    s = load_settings(_env_file=None)
    assert s.uses_sandbox and s.twilio_api_base_url == "http://127.0.0.1:8010"
    assert s.temporal_address == "localhost:7233" and s.temporal_task_queue == "a2p-registrar"
    assert "s3cr3t" not in repr(s) and "s3cr3t" not in str(s)  # secrets never print


def test_status_callback_points_at_the_public_url_with_the_workflow_id_and_its_token():
    s = load_settings(_env_file=None, **GOOD, a2p_public_base_url="https://a2p.example.com/")
    token = s.callback_token("a2p-registration-x/1")
    assert s.status_callback_url("a2p-registration-x/1") == \
        f"https://a2p.example.com/webhooks/trusthub?workflow_id=a2p-registration-x%2F1&token={token}"
    assert load_settings(_env_file=None, **GOOD).status_callback_url("w") is None
    # The token binds the URL to one workflow id, and depends on a secret.
    assert len(token) == 64 and token != s.callback_token("a2p-registration-x/")
    assert load_settings(_env_file=None, **GOOD, a2p_callback_secret="other").callback_token("w") != \
        s.callback_token("w")


def test_temporal_cloud_api_key_implies_tls():
    s = load_settings(_env_file=None, **GOOD, temporal_api_key="secret")
    assert _security(s) == {"api_key": "secret", "tls": True}
    assert _security(load_settings(_env_file=None, **GOOD)) == {}
