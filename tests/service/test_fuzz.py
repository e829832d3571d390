"""Property-based fuzzing of the service from its own OpenAPI document (schemathesis on hypothesis):
inputs that fit the schema and inputs that do not, against every operation, over real HTTP and
past authentication — the API key on /v1, the codec's key on /codec, and Twilio's webhooks signed
as Twilio signs them (a schemathesis hook computes the URL's token, the body's SHA-256 and the
X-Twilio-Signature of each case), so the fuzzer reaches what comes after the checks. No answer is
a 5xx; every input that does not fit the schema is refused with a 4xx; nothing reaches Twilio (the
sandbox's request counts do not move).

The examples per operation are few (``EXAMPLES``), so that the run takes seconds; hypothesis
varies them from run to run."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from pydantic import SecretStr
from schemathesis.generation.modes import GenerationMode
from twilio.request_validator import RequestValidator

from infra.codec import new_key_spec
from infra.settings import Settings
from starter.service import create_app, serving
from tests.service.conftest import API_KEY, TOKEN

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXAMPLES = 5
CODEC_KEY = "fuzz-codec-key"
WEBHOOKS = ("/webhooks/trusthub", "/webhooks/events")


def signing_hook(settings: Settings, url: str):
    """A schemathesis ``before_call`` hook that signs each webhook case as Twilio would: a status
    callback's URL gets the token of its workflow id, an Event Streams URL the body's SHA-256, and
    both the X-Twilio-Signature of the URL (and form) with the parent account's auth token. The
    request is prepared as the transport will send it, so the signature covers the exact bytes."""

    def prepared(case) -> requests.PreparedRequest:
        kwargs = case.as_transport_kwargs(base_url=url)
        return requests.Request(**{k: v for k, v in kwargs.items() if k in (
            "method", "url", "headers", "params", "data", "json", "files", "cookies")}).prepare()

    def before_call(context, case, kwargs) -> None:
        if case.operation.path not in WEBHOOKS:
            return
        case.query = dict(case.query or {})
        if case.operation.path == "/webhooks/trusthub":
            workflow_ids = [v for k, v in parse_qsl(urlsplit(prepared(case).url).query, keep_blank_values=True)
                            if k == "workflow_id"]
            if workflow_ids:
                case.query["token"] = settings.callback_token(workflow_ids[-1])
            request = prepared(case)
            body = request.body or b""
            form = dict(parse_qsl(body.decode() if isinstance(body, bytes) else body, keep_blank_values=True))
        else:
            body = prepared(case).body or b""
            case.query["bodySHA256"] = hashlib.sha256(body.encode() if isinstance(body, str) else body).hexdigest()
            request, form = prepared(case), {}
        case.headers = {**(case.headers or {}),
                        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(request.url, form)}

    return before_call


def fuzz(doc: dict, url: str, settings: Settings) -> tuple[Counter, list[str], Counter]:
    """Every operation of ``doc`` with schema-conforming and non-conforming inputs: (status
    counts, what went wrong, answers past authentication per path). Runs in a thread: the
    service answers from the test's event loop."""
    schema = schemathesis.openapi.from_dict(doc)
    statuses: Counter = Counter()
    reached: Counter = Counter()
    timings: dict[str, float] = {}
    problems: list[str] = []
    session = requests.Session()

    def send(case, mode: GenerationMode) -> None:
        key = CODEC_KEY if case.path.startswith("/codec") else API_KEY
        try:
            response = case.call(base_url=url, session=session, timeout=20, headers={"Authorization": f"Bearer {key}"})
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError, ValueError):
            statuses["unsendable"] += 1  # the client could not even send it
            return
        statuses[response.status_code] += 1
        if response.status_code not in (401, 403):
            reached[case.path] += 1
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

    hook = schemathesis.hook("before_call")(signing_hook(settings, url))
    try:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for result in schema.get_all_operations():
                operation = result.ok()
                started = time.monotonic()
                try:
                    examples(operation.as_strategy(generation_mode=mode), mode)()
                except hypothesis.errors.Unsatisfiable:
                    pass  # nothing of this operation can be made not to fit its schema (e.g. a path alone)
                timings[f"{mode.value} {operation.label}"] = time.monotonic() - started
    finally:
        schemathesis.hooks.unregister(hook)
    print("slowest operations:", sorted(timings.items(), key=lambda kv: -kv[1])[:3])
    return statuses, problems, reached


def _has_body(case) -> bool:
    """A body was generated (a query string cannot be "not a string": every value in it is one)."""
    return case.body is not None and type(case.body).__name__ != "NotSet"


async def test_fuzzing_the_api_from_its_openapi_document_finds_no_5xx(stack):
    # The stack's service, with a codec key (and payload keys) and no public base URL: webhooks are
    # signed for the URL the fuzzer calls.
    settings = stack.settings.model_copy(update={
        "a2p_codec_api_key": SecretStr(CODEC_KEY), "a2p_payload_keys": SecretStr(new_key_spec("fz")),
        "a2p_public_base_url": None})
    before = await stack.control.stats()
    async with serving(create_app(settings, stack.client)) as url:
        doc = (await stack.http.get(f"{url}/openapi.json")).json()
        statuses, problems, reached = await asyncio.to_thread(fuzz, doc, url, settings)
    assert not problems, "\n".join(problems[:20])
    assert sum(n for s, n in statuses.items() if isinstance(s, int)) >= 80, statuses
    # Past authentication on every kind of endpoint: the fuzzer's inputs reached the checks after it.
    assert {"/webhooks/trusthub", "/webhooks/events", "/codec/decode", "/codec/encode"} <= set(reached), reached
    print("answers past authentication:", dict(reached), "statuses:", dict(statuses))
    assert 201 not in statuses, statuses  # nothing random was valid enough to start a registration
    after = await stack.control.stats()
    assert after["requests"] == before["requests"], "something reached Twilio"
