"""Every Twilio call a workflow can schedule has exactly one activity on the worker, on the task
queue the workflow schedules it on: a missing one would surface only as hours of timeouts."""

from __future__ import annotations

from collections import Counter

from temporalio import activity

from a2p.calls import Call
from activities import TwilioClients, otp_activities, registration_activities
from local_stack.stack import sandbox_settings
from tests.workflows.fake_twilio import FakeTwilio
from workflows.policies import CALL_OPTIONS


def names(functions) -> Counter[str]:
    return Counter(activity._Definition.must_from_callable(fn).name for fn in functions)


def registered() -> tuple[Counter[str], Counter[str]]:
    clients = TwilioClients(sandbox_settings("http://127.0.0.1:9", "127.0.0.1:7233"))
    return names(registration_activities(clients)), names(otp_activities(clients))


def test_every_call_has_exactly_one_activity_and_every_activity_a_call():
    main, otp = registered()
    assert main + otp == Counter(str(call) for call in Call)


def test_rate_limited_calls_run_on_the_otp_queue_and_only_they():
    main, otp = registered()
    assert set(otp) == {str(call) for call, options in CALL_OPTIONS.items() if options.rate_limited_queue}
    assert set(CALL_OPTIONS) == set(Call)


def test_the_workflow_tests_fake_answers_every_call_on_the_same_queues():
    main, otp = registered()
    fake = FakeTwilio()
    assert (names(fake.activities()), names(fake.otp_activities())) == (main, otp)
