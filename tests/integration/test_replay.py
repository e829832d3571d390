"""Determinism guard: recorded histories of real registrations must replay on today's code.

A change that would break registrations already running (they live for weeks) fails here; put
such changes behind `workflow.patched`. Record new histories with
`A2P_RECORD_HISTORIES=1 python3 dev.py test tests/integration/test_registration.py
tests/integration/test_failure_paths.py tests/workflows/test_failure_paths.py` (conversions:
`tests/integration/test_conversion.py -k happy_path`, `tests/service/test_conversion_callbacks.py`;
a registration that continued as new, its first run and a continued run, which replays with its
own input, the carried state: `tests/workflows/test_long_runs.py -k campaign`); that writes every
history those tests record: keep (git checkout) the ones that should stay as recorded by older code.
Histories no test records any more were recorded with earlier code — `*_before_failure_paths` before
FAILURE_PATHS, and `new_registration_profile_correction_brand_update` before RESUBMIT_IN_TURN
(workflows/patches.py): keep them as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.temporal_client import DATA_CONVERTER
from worker import WORKFLOW_RUNNER
from workflows import ALL_WORKFLOWS

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=DATA_CONVERTER, workflow_runner=WORKFLOW_RUNNER)
    await replayer.replay_workflow(history)


def test_histories_are_recorded() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"new_registration_happy_path", "new_registration_address_correction",
            "legacy_conversion_happy_path", "new_registration_profile_correction_brand_update",
            "new_registration_campaign_correction", "new_registration_brand_suspended_then_reinstated",
            "new_registration_campaign_deleted_and_created", "new_registration_brand_expired_parked",
            "new_registration_profile_rejected_stops_before_tcr",
            "legacy_conversion_bundle_rejected_by_callback",
            "new_registration_campaign_cycles_first_run", "new_registration_campaign_cycles_continued_run",
            "new_registration_profile_rejected_again_after_brand_failed",
            "new_registration_brand_failed_during_the_otp_wait",
            # Registrations started before the failure paths' ways forward (FAILURE_PATHS): a
            # correction of the email, and of the address once the brand FAILED, as they ran then.
            "new_registration_email_correction_before_failure_paths",
            "new_registration_address_correction_brand_update_before_failure_paths"} <= names, names
