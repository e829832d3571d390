"""The Web UI's current details of a registration (workflows/visibility.py): the first line says the
phase, what it waits for and what moves it on — the exact `a2p` command and API call, or that no
action is needed; no stale OTP line, no "0 s" timers, times a person reads, Twilio's reasons and
codes as a person reads them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from a2p.progress import OtpProgress, Phase, Problem, RegistrationStatus, Statuses
from sandbox import scenarios
from workflows import visibility

WID = "a2p-registration-crm-10042"
AT = datetime(2026, 5, 4, 13, 5, 42, tzinfo=timezone.utc)
BAD_REGION = {"street": "1 Jersey St", "city": "Boston", "region": "MAA", "postal_code": "02215",
              "iso_country": "US"}


def status(**fields) -> RegistrationStatus:
    return RegistrationStatus(workflow_id=WID, isv_customer_id="crm-10042", **fields)


def lines(s: RegistrationStatus) -> list[str]:
    return visibility.details(s).split("\n\n")


def assert_readable_times(text: str) -> None:
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", text), text  # no raw ISO timestamps
    assert "+00:00" not in text and "2026-05-04 13:05 UTC" in text, text


def test_a_parked_registration_names_the_commands_that_move_it_on_in_its_first_line():
    # Twilio's two reasons (the sandbox's wording, after the seed: each ends in ";"), as a status
    # callback or the bundle's errors give them: joined by "; ".
    twilio = "; ".join([scenarios.address_rejection(BAD_REGION), scenarios.EMAIL_DISPOSABLE + ";"])
    assert "US;;" in twilio  # what used to be shown
    parked = status(
        phase=Phase.NEEDS_ATTENTION, statuses=Statuses(customer_profile="twilio-rejected"),
        problem=Problem(source="customer_profile", at=AT,
                        summary=f"customer profile rejected by Twilio: {visibility.reasons([twilio])}",
                        accepts=["correction", "retry", "end"], correction_fields=["email", "address"],
                        remedy="send a correction of the rejected details"))
    parked.waiting_for = visibility.what_to_send(parked.problem)
    head, statuses, problem, remedy = lines(parked)
    assert head == (
        "**NEEDS_ATTENTION** — waiting for a correction (email, address) or a decision (retry | end) · send "
        f"`a2p correct {WID} FILE.json` (POST /v1/registrations/{WID}/corrections) or "
        f"`a2p decide {WID} retry|end` (POST /v1/registrations/{WID}/actions/decide "
        '{"action": "retry" | "end"})')
    assert statuses.startswith("profile twilio-rejected · trust bundle -")
    assert problem.startswith("problem: customer profile rejected by Twilio: [address_sids] - Invalid Region.")
    assert "Country: US; Email is a suspected disposable address" in problem and ";;" not in problem
    assert not problem.endswith(";") and remedy == "remedy: send a correction of the rejected details"


def test_a_failed_brand_shows_twilio_s_codes_explained():
    errors_explained = ["30701: the brand's profile data (name, email, address) did not match: correct it"]
    parked = status(phase=Phase.NEEDS_ATTENTION, waiting_for="a decision (retry | end)", problem=Problem(
        source="brand", summary="brand FAILED: " + visibility.reasons(["Bundle is twilio-rejected;", "Email;"]),
        explanations=errors_explained, accepts=["retry", "end"], remedy="`decide retry`"))
    text = visibility.details(parked)
    assert lines(parked)[0].endswith(
        f"· send `a2p decide {WID} retry|end` (POST /v1/registrations/{WID}/actions/decide "
        '{"action": "retry" | "end"})')
    assert "a2p correct" not in text
    assert "problem: brand FAILED: Bundle is twilio-rejected; Email\n" in text
    assert f"\n\nTwilio {errors_explained[0]}\n\n" in text


def test_an_expired_otp_names_the_decisions_it_takes():
    expired = status(phase=Phase.OTP_EXPIRED, waiting_for="an operator's decision (OTP expired)",
                     otp=OtpProgress(sent=31, resends=30, deadline_at=AT),
                     problem=Problem(source="otp", summary="the customer did not verify the OTP within 30 days",
                                     accepts=["resend_otp_and_wait", "end"], remedy="`decide resend_otp_and_wait`"))
    assert lines(expired)[0] == (
        "**OTP_EXPIRED** — waiting for an operator's decision (OTP expired) · send "
        f"`a2p decide {WID} resend_otp_and_wait|end` (POST /v1/registrations/{WID}/actions/decide "
        '{"action": "resend_otp_and_wait" | "end"})')


def test_an_otp_wait_says_how_to_resend_it_and_when_the_next_resend_and_deadline_are():
    waiting = status(phase=Phase.OTP_VERIFICATION, waiting_for="the customer to reply YES to the OTP",
                     next_timer_at=AT, statuses=Statuses(brand="APPROVED", identity="UNVERIFIED"),
                     otp=OtpProgress(sent=2, resends=1, last_sent_at=AT - timedelta(days=1),
                                     next_resend_at=AT, deadline_at=AT + timedelta(days=29)))
    head, statuses, otp = lines(waiting)
    assert head == ("**OTP_VERIFICATION** — waiting for the customer to reply YES to the OTP · next check "
                    f"2026-05-04 13:05 UTC · to re-send the OTP now: `a2p resend-otp {WID}` "
                    f"(POST /v1/registrations/{WID}/actions/resend-otp)")
    assert otp == "OTP sent 2×, next re-send 2026-05-04 13:05 UTC, deadline 2026-06-02 13:05 UTC"
    assert_readable_times(visibility.details(waiting))


def test_a_settle_wait_after_the_otp_needs_no_action_and_no_longer_shows_the_otp():
    waiting_for, timer = visibility.settle("messaging service", timedelta(seconds=0.5))
    settling = status(phase=Phase.CAMPAIGN, waiting_for=waiting_for, next_timer_at=AT,
                      statuses=Statuses(brand="APPROVED", identity="VERIFIED"),
                      otp=OtpProgress(sent=1, last_sent_at=AT, deadline_at=AT + timedelta(days=30), verified_at=AT))
    assert lines(settling) == [
        "**CAMPAIGN** — waiting for messaging service validation (0.5 s settle wait) · next check "
        "2026-05-04 13:05 UTC · no action needed",
        "profile - · trust bundle - · brand APPROVED/VERIFIED · campaign -"]  # no "OTP sent" once verified
    assert timer == "wait 0.5 s for messaging service validation"  # the timer's summary in the Web UI
    assert visibility.settle("brand registration", timedelta(seconds=30))[1] == \
        "wait 30 s for brand registration validation"


def test_a_review_wait_needs_no_action():
    review = status(phase=Phase.BRAND_REVIEW, waiting_for="brand review (APPROVED or FAILED)", next_timer_at=AT,
                    statuses=Statuses(brand="PENDING"))
    assert lines(review)[0] == ("**BRAND_REVIEW** — waiting for brand review (APPROVED or FAILED) · next check "
                                "2026-05-04 13:05 UTC · no action needed")


def test_a_completed_registration_says_it_has_ended_and_nothing_stale():
    done = status(phase=Phase.COMPLETED, finished_at=AT,
                  statuses=Statuses(customer_profile="twilio-approved", trust_bundle="twilio-approved",
                                    brand="APPROVED", identity="VERIFIED", campaign="VERIFIED"),
                  otp=OtpProgress(sent=1, last_sent_at=AT, deadline_at=AT + timedelta(days=30), verified_at=AT))
    assert lines(done) == [
        "**COMPLETED** · ended: nothing left to do",
        "profile twilio-approved · trust bundle twilio-approved · brand APPROVED/VERIFIED · campaign VERIFIED"]


def test_a_failed_registration_keeps_its_problem_but_offers_no_action():
    failed = status(phase=Phase.FAILED, problem=Problem(
        source="operator", summary="customer withdrew", accepts=["retry", "end"], remedy="`decide retry`"))
    text = visibility.details(failed)
    assert text.startswith("**FAILED** · ended: nothing left to do") and "problem: customer withdrew" in text
    assert "remedy" not in text and "a2p decide" not in text
