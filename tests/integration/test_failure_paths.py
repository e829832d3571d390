"""A Twilio failure walked end to end on the real dev server against the sandbox, asserting where
the registration ends and which Twilio calls were made (sandbox stats): a FAILED campaign corrected
by an edit, with one campaign. The other failure paths of a new registration are tested in the
workflow layer (tests/workflows/test_failure_paths.py); `start`, `Calls` and `complete` serve
test_operator_actions.py too."""

from __future__ import annotations

import pytest

from a2p.progress import Phase
from a2p.requests import Correction
from starter import registrations
from tests.factories import answer_otp, record_history, wait_phase

pytestmark = pytest.mark.asyncio(loop_scope="session")

FLOW_WITH_OPT_IN = ("Customers opt in by texting JOIN to the number on the bakery's counter sign; "
                    "consent is recorded at sign up.")
FLOW_WITHOUT_OPT_IN = "Customers give their mobile number at the front desk when they book an appointment."


async def start(client, settings, task_queue, request) -> str:
    started = await registrations.start_registration(client, settings, request, task_queue=task_queue)
    assert started.created
    return started.workflow_id


class Calls:
    """Twilio requests one customer's subaccount made since it was taken (sandbox stats), by endpoint."""

    def __init__(self, before: dict, account_sid: str) -> None:
        self.before, self.account_sid = before, account_sid

    @classmethod
    async def now(cls, control, account_sid: str) -> "Calls":
        return cls((await control.stats(account_sid))["requests"], account_sid)

    async def since(self, control) -> dict[str, int]:
        after = (await control.stats(self.account_sid))["requests"]
        return {k: sum(v.values()) - sum(self.before.get(k, {}).values()) for k, v in after.items()
                if sum(v.values()) - sum(self.before.get(k, {}).values())}


CAMPAIGN_CREATE = "POST /v1/Services/{Sid}/Compliance/Usa2p"
CAMPAIGN_UPDATE, CAMPAIGN_DELETE = (f"{CAMPAIGN_CREATE}/{{Sid}}", "DELETE /v1/Services/{Sid}/Compliance/Usa2p/{Sid}")


async def complete(client, control, wid, mobile_number):
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, mobile_number)
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.COMPLETED, final.model_dump_json(indent=1)
    return final


# ---- campaign --------------------------------------------------------------------------------


async def campaign_failed(client, settings, task_queue, customer, control):
    """A registration whose campaign Twilio FAILED (no opt-in in its message flow), parked:
    (workflow id, Twilio calls since before it started, its status)."""
    request = customer.request(campaign__message_flow=FLOW_WITHOUT_OPT_IN)
    calls = await Calls.now(control, customer.subaccount_sid)
    wid = await start(client, settings, task_queue, request)
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, request.customer.mobile_number)
    return wid, calls, await wait_phase(client, wid, Phase.NEEDS_ATTENTION)


async def test_failed_campaign_is_corrected_and_verified_with_one_campaign(
        client, settings, task_queue, customer, control):
    wid, calls, status = await campaign_failed(client, settings, task_queue, customer, control)
    problem = status.problem
    assert problem.source == "campaign" and problem.correction_fields == ["campaign"]
    assert any(e.code == 30896 for e in problem.errors) and "30896" in problem.summary
    assert any(x.startswith("30896") for x in problem.explanations)
    # Checked against the whole campaign once merged: answering STOP/HELP yourself needs the
    # opt-out and help texts, which this campaign lacks — refused, nothing sent.
    with pytest.raises(registrations.UpdateRefused, match="opt_out_message"):
        await registrations.correct(client, wid, Correction(campaign={"use_twilio_default_opt_out": False}))

    await registrations.correct(client, wid, Correction(campaign={"message_flow": FLOW_WITH_OPT_IN}))
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED"
    [campaign] = await customer.resources("campaigns")
    assert campaign["sid"] == final.sids.campaign and campaign["message_flow"] == FLOW_WITH_OPT_IN
    made = await calls.since(control)
    assert made.get(CAMPAIGN_CREATE) == 1 and made.get(CAMPAIGN_UPDATE) == 1 and CAMPAIGN_DELETE not in made, made
    await record_history(client, wid, "new_registration_campaign_correction")
