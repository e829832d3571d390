"""Property-based fuzzing of the service from its own OpenAPI document (schemathesis on hypothesis):
inputs that fit the schema and inputs that do not, against every operation, over real HTTP with
the API key. No answer is a 5xx; every input that does not fit the schema is refused with a 4xx;
nothing reaches Twilio (the sandbox's request counts do not move).

The examples per operation are few (``EXAMPLES``), so that the run takes seconds; hypothesis
varies them from run to run."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from schemathesis.generation.modes import GenerationMode

from tests.service.conftest import API_KEY

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXAMPLES = 5


def fuzz(doc: dict, url: str) -> tuple[Counter, list[str]]:
    """Every operation of ``doc`` with schema-conforming and non-conforming inputs: (status
    counts, what went wrong). Runs in a thread: the service answers from the test's event loop."""
    schema = schemathesis.openapi.from_dict(doc)
    statuses: Counter = Counter()
    timings: dict[str, float] = {}
    problems: list[str] = []
    session = requests.Session()

    def send(case, mode: GenerationMode) -> None:
        try:
            response = case.call(base_url=url, session=session, timeout=20,
                                 headers={"Authorization": f"Bearer {API_KEY}"})
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError, ValueError):
            statuses["unsendable"] += 1  # the client could not even send it
            return
        statuses[response.status_code] += 1
        where = f"{mode.value} {case.method} {case.formatted_path} -> {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.text[:300]}")
        elif case.path == "/v1/conversions/batch" and response.status_code == 200:
            if response.json()["started"]:  # a batch refuses its invalid items one by one
                problems.append(f"{where}: started something: {response.text[:300]}")
        elif (mode is GenerationMode.NEGATIVE and case.path.startswith("/v1") and _has_body(case)
              and response.status_code < 400):
            problems.append(f"{where}: accepted a body that does not fit the schema: {case.body!r:.300}")

    def examples(strategy, mode: GenerationMode):
        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                             suppress_health_check=list(hypothesis.HealthCheck),
                             phases=[hypothesis.Phase.generate])
        @hypothesis.given(case=strategy)
        def check(case) -> None:
            send(case, mode)

        return check

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for result in schema.get_all_operations():
            operation = result.ok()
            started = time.monotonic()
            try:
                examples(operation.as_strategy(generation_mode=mode), mode)()
            except hypothesis.errors.Unsatisfiable:
                pass  # nothing of this operation can be made not to fit its schema (e.g. a path alone)
            timings[f"{mode.value} {operation.label}"] = time.monotonic() - started
    print("slowest operations:", sorted(timings.items(), key=lambda kv: -kv[1])[:3])
    return statuses, problems


def _has_body(case) -> bool:
    """A body was generated (a query string cannot be "not a string": every value in it is one)."""
    return case.body is not None and type(case.body).__name__ != "NotSet"


async def test_fuzzing_the_api_from_its_openapi_document_finds_no_5xx(stack):
    doc = (await stack.http.get("/openapi.json")).json()
    before = await stack.control.stats()
    statuses, problems = await asyncio.to_thread(fuzz, doc, stack.url)
    assert not problems, "\n".join(problems[:20])
    assert sum(n for s, n in statuses.items() if isinstance(s, int)) >= 80, statuses
    assert 201 not in statuses, statuses  # nothing random was valid enough to start a registration
    after = await stack.control.stats()
    assert after["requests"] == before["requests"], "something reached Twilio"
