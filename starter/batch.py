"""Legacy conversions in bulk: read a file of customers (one JSON object, a JSON array, or CSV),
validate every item, start one `LegacyConversion` per valid customer (idempotent per ISV customer
id), and follow them. Invalid items are reported with their field errors and never started.

The CLI (`a2p convert FILE`) and the HTTP service (`POST /v1/conversions/batch`) share it:

    items = read_conversion_file(path)                       # or: list of dicts from a JSON body
    result = await start_conversions(client, settings, items)
    result.created, result.existing, result.invalid           # counts; result.items: one outcome each

CSV: a header row, then one customer per row. Columns: ``isv_customer_id``, ``subaccount_sid``,
``trust_bundle_sid``, ``brand_sid``, ``brand_name``, ``mobile_number``, ``vertical``; optionally a
campaign: ``campaign`` (a JSON object cell, `CampaignDetails`) and the Messaging Service as a JSON
cell ``messaging_service`` or as dotted columns ``messaging_service.existing_sid``,
``messaging_service.friendly_name``, ``messaging_service.phone_number_sid``; ``timings`` (a JSON cell)
too. Empty cells are left out. A shared campaign (``--campaign-file``) applies to every item that
has none of its own.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio.client import Client

from a2p import search_attributes as sa
from a2p.progress import Phase, TERMINAL_PHASES
from a2p.requests import CampaignDetails, LegacyConversionRequest, MessagingServiceSpec, format_validation_error
from infra.settings import Settings
from starter import registrations
from starter.backlog import StartGate

CSV_COLUMNS = ("isv_customer_id", "subaccount_sid", "trust_bundle_sid", "brand_sid", "brand_name",
               "mobile_number", "vertical")
JSON_COLUMNS = ("campaign", "messaging_service", "timings")
SERVICE_COLUMNS = tuple(f"messaging_service.{name}" for name in MessagingServiceSpec.model_fields)
KNOWN_COLUMNS = CSV_COLUMNS + JSON_COLUMNS + SERVICE_COLUMNS

# Waiting for a person: nothing more happens by itself.
PARKED_PHASES = frozenset({Phase.NEEDS_ATTENTION, Phase.OTP_EXPIRED})


class BatchFileError(ValueError):
    """The file as a whole cannot be read (not JSON/CSV, unknown columns, ...): nothing is started."""


class BatchItem(BaseModel):
    """One customer of a batch, as read: where it came from and its fields (not yet validated)."""

    model_config = ConfigDict(frozen=True)

    index: int                      # 0-based position in the batch
    source: str                     # "row 3" (CSV: the header is row 1), "item 2" (JSON array, from 1)
    data: dict[str, Any]
    errors: list[dict[str, str]] = Field(default_factory=list)  # found while reading (a bad JSON cell)


class ItemOutcome(BaseModel):
    index: int
    source: str
    isv_customer_id: str | None = None
    outcome: Literal["created", "existing", "invalid", "error"]
    workflow_id: str | None = None
    run_id: str | None = None
    fields: list[dict[str, str]] = Field(default_factory=list)   # invalid: [{"field", "message"}]
    error: str | None = None                                      # error: why it could not be started


class BatchResult(BaseModel):
    """What a batch start did: one outcome per item, in the batch's order."""

    items: list[ItemOutcome]

    def _count(self, outcome: str) -> int:
        return sum(1 for i in self.items if i.outcome == outcome)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def existing(self) -> int:
        return self._count("existing")

    @property
    def invalid(self) -> int:
        return self._count("invalid")

    @property
    def errors(self) -> int:
        return self._count("error")

    @property
    def workflow_ids(self) -> list[str]:
        return [i.workflow_id for i in self.items if i.workflow_id and i.outcome in ("created", "existing")]

    def summary(self) -> str:
        text = (f"{self.total} in file: {self.created} created, {self.existing} already running (or done), "
                f"{self.invalid} invalid")
        return text + (f", {self.errors} could not be started" if self.errors else "")


# ---- reading -------------------------------------------------------------------------------------


def read_conversion_file(path: Path | str) -> list[BatchItem]:
    """A JSON object (one customer), a JSON array (many) or a CSV file (many), by its content."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise BatchFileError(f"cannot read {path}: {err}") from None
    return parse_conversions(text)


def parse_conversions(text: str) -> list[BatchItem]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as err:
            raise BatchFileError(f"not valid JSON: {err}") from None
        return items_from_json(data)
    return items_from_csv(text)


def items_from_json(data: Any) -> list[BatchItem]:
    """A JSON object is one customer; a JSON array is many (each must be an object)."""
    if isinstance(data, dict):
        return [BatchItem(index=0, source="object", data=data)]
    if not isinstance(data, list):
        raise BatchFileError("a conversion file must hold a JSON object or an array of objects")
    items = []
    for i, item in enumerate(data):
        if isinstance(item, dict):
            items.append(BatchItem(index=i, source=f"item {i + 1}", data=item))
        else:
            items.append(BatchItem(index=i, source=f"item {i + 1}", data={},
                                   errors=[{"field": "", "message": "must be an object"}]))
    return items


def items_from_csv(text: str) -> list[BatchItem]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise BatchFileError("the CSV file is empty: it needs a header row with " + ", ".join(CSV_COLUMNS))
    unknown = [h for h in header if h not in KNOWN_COLUMNS]
    if unknown:
        raise BatchFileError(f"unknown CSV column(s): {', '.join(unknown)}; known: {', '.join(KNOWN_COLUMNS)}")
    reader.fieldnames = header
    items = []
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for k, v in row.items() if k is not None) and None not in row:
            continue  # a blank line
        data: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        if None in row:
            errors.append({"field": "", "message": f"has {len(row[None])} more cell(s) than the header has columns"})
        for column, value in row.items():
            if column is None or value is None or not value.strip():
                continue
            value = value.strip()
            if column in JSON_COLUMNS:
                try:
                    data[column] = json.loads(value)
                except json.JSONDecodeError as err:
                    errors.append({"field": column, "message": f"must be a JSON object: {err}"})
            elif "." in column:
                parent, child = column.split(".", 1)
                target = data.setdefault(parent, {})
                if isinstance(target, dict):
                    target[child] = value
            else:
                data[column] = value
        items.append(BatchItem(index=len(items), source=f"row {line}", data=data, errors=errors))
    return items


def read_campaign_defaults(path: Path | str) -> dict[str, Any]:
    """A shared campaign: a `CampaignDetails` JSON object, or ``{"campaign": {...},
    "messaging_service": {...}}`` (e.g. ``{"friendly_name": "SMS"}`` — one service per customer is
    created with that name). Validated here, so a bad file stops the batch before anything starts."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BatchFileError(f"cannot read the campaign file {path}: {err}") from None
    if not isinstance(data, dict):
        raise BatchFileError(f"the campaign file {path} must hold a JSON object")
    defaults = data if "campaign" in data else {"campaign": data}
    extra = set(defaults) - {"campaign", "messaging_service"}
    if extra:
        raise BatchFileError(f"the campaign file {path} has unknown key(s): {', '.join(sorted(extra))}")
    try:
        CampaignDetails.model_validate(defaults["campaign"])
    except ValidationError as err:
        lines = "; ".join(f"{e['field'] or 'campaign'}: {e['message']}" for e in format_validation_error(err))
        raise BatchFileError(f"the campaign file {path} is invalid: {lines}") from None
    return defaults


def apply_campaign_defaults(data: dict[str, Any], defaults: dict[str, Any] | None) -> dict[str, Any]:
    """The item with the shared campaign (and Messaging Service) where it has none of its own.
    The item's own Messaging Service fields win; an item naming its service (existing_sid or
    friendly_name) does not inherit the other of the two."""
    if not defaults or data.get("campaign") is not None:
        return data
    out = dict(data, campaign=defaults["campaign"])
    shared = dict(defaults.get("messaging_service") or {})
    own = data.get("messaging_service")
    if isinstance(own, dict):
        if own.get("existing_sid") or own.get("friendly_name"):
            shared.pop("existing_sid", None)
            shared.pop("friendly_name", None)
        out["messaging_service"] = {**shared, **own}
    elif own is None and shared:
        out["messaging_service"] = shared
    return out


# ---- validating and starting ---------------------------------------------------------------------


def validate_conversions(items: Sequence[BatchItem], campaign_defaults: dict[str, Any] | None = None
                         ) -> tuple[list[tuple[BatchItem, LegacyConversionRequest]], list[ItemOutcome]]:
    """(valid items with their requests, invalid outcomes). A customer twice in one batch is
    invalid the second time: one file, one conversion per customer."""
    valid: list[tuple[BatchItem, LegacyConversionRequest]] = []
    invalid: list[ItemOutcome] = []
    first_seen: dict[str, str] = {}
    for item in items:
        customer_id = item.data.get("isv_customer_id")
        customer_id = customer_id if isinstance(customer_id, str) else None
        errors = list(item.errors)
        request = None
        if not errors:
            try:
                request = LegacyConversionRequest.model_validate(apply_campaign_defaults(item.data, campaign_defaults))
            except ValidationError as err:
                errors = format_validation_error(err)
        if request is not None:
            if request.isv_customer_id in first_seen:
                errors = [{"field": "isv_customer_id",
                           "message": f"is already in this batch ({first_seen[request.isv_customer_id]})"}]
            else:
                first_seen[request.isv_customer_id] = item.source
        if errors:
            invalid.append(ItemOutcome(index=item.index, source=item.source, isv_customer_id=customer_id,
                                       outcome="invalid", fields=errors))
        else:
            valid.append((item, request))
    return valid, invalid


async def start_conversions(client: Client, settings: Settings, items: Iterable[BatchItem | dict[str, Any]], *,
                            campaign_defaults: dict[str, Any] | None = None, task_queue: str | None = None,
                            concurrency: int = 20, raise_on_error: bool = False,
                            on_outcome: Callable[[ItemOutcome], None] | None = None) -> BatchResult:
    """Validate every item and start a conversion for each valid one (at most ``concurrency``
    starts in flight, and none while ``A2P_START_BACKLOG_LIMIT`` registrations wait for a worker:
    :class:`StartGate`). Items may be `BatchItem`s or plain dicts (a JSON body: ``index``/``source``
    are their position). Starting again is harmless: a customer's existing conversion is returned
    ("existing"), never a second one. A start that fails (Temporal unavailable) is reported as
    "error" for that item and the others go on — or, with ``raise_on_error``, the first such
    exception propagates once every start has ended (the HTTP service answers 503 then; a client
    that sends the batch again gets the started ones back as "existing")."""
    batch = [i if isinstance(i, BatchItem) else _plain_item(n, i) for n, i in enumerate(items)]
    valid, outcomes = validate_conversions(batch, campaign_defaults)
    for outcome in outcomes:
        if on_outcome:
            on_outcome(outcome)
    gate = asyncio.Semaphore(max(1, concurrency))
    room = StartGate(client, settings.a2p_start_backlog_limit)

    async def start(item: BatchItem, request: LegacyConversionRequest) -> ItemOutcome:
        async with gate:
            try:
                await room.wait()
                started = await registrations.start_conversion(client, settings, request, task_queue=task_queue)
            except Exception as err:  # one item's failure must not hide the others'
                if raise_on_error:
                    raise
                outcome = ItemOutcome(index=item.index, source=item.source, isv_customer_id=request.isv_customer_id,
                                      outcome="error", workflow_id=request.workflow_id,
                                      error=f"{type(err).__name__}: {err}")
            else:
                outcome = ItemOutcome(index=item.index, source=item.source, isv_customer_id=request.isv_customer_id,
                                      outcome="created" if started.created else "existing",
                                      workflow_id=started.workflow_id, run_id=started.run_id)
        if on_outcome:
            on_outcome(outcome)
        return outcome

    started = await asyncio.gather(*(start(item, request) for item, request in valid), return_exceptions=True)
    failures = [s for s in started if isinstance(s, BaseException)]
    if failures:
        raise failures[0]
    outcomes += started
    return BatchResult(items=sorted(outcomes, key=lambda o: o.index))


def _plain_item(index: int, data: Any) -> BatchItem:
    if isinstance(data, dict):
        return BatchItem(index=index, source=f"item {index + 1}", data=data)
    return BatchItem(index=index, source=f"item {index + 1}", data={},
                     errors=[{"field": "", "message": "must be an object"}])


# ---- following -----------------------------------------------------------------------------------


async def phases(client: Client, workflow_ids: Sequence[str], chunk: int = 100) -> dict[str, str]:
    """workflow id -> its A2PPhase (from visibility: one listing per ``chunk`` workflows). A
    workflow that ended without publishing a terminal phase (terminated, timed out) shows its
    Temporal status instead."""
    found: dict[str, str] = {}
    for start in range(0, len(workflow_ids), chunk):
        ids = ", ".join(f"'{wid}'" for wid in workflow_ids[start:start + chunk])
        async for wf in client.list_workflows(f"WorkflowId IN ({ids})", rpc_timeout=registrations.RPC_TIMEOUT):
            phase = wf.typed_search_attributes.get(sa.PHASE) or Phase.STARTED.value
            closed = wf.status is not None and wf.status.name != "RUNNING"
            if closed and phase not in {p.value for p in TERMINAL_PHASES}:
                phase = wf.status.name
            found[wf.id] = phase
    return found


def phase_counts(by_workflow: dict[str, str], expected: int) -> str:
    counts = Counter(by_workflow.values())
    missing = expected - len(by_workflow)
    if missing > 0:
        counts[Phase.STARTED.value] += missing  # not yet visible
    order = [p.value for p in Phase]
    parts = [f"{p} {counts[p]}" for p in sorted(counts, key=lambda p: (order.index(p) if p in order else 99, p))]
    return " · ".join(parts)


def settled(phase: str) -> bool:
    """Ended, or waiting for a person: nothing more happens by itself."""
    return phase not in {p.value for p in Phase} or Phase(phase) in TERMINAL_PHASES | PARKED_PHASES


async def follow(client: Client, workflow_ids: Sequence[str], *, interval: float = 1.0,
                 timeout: float | None = None, on_change: Callable[[float, str], None] | None = None
                 ) -> dict[str, str]:
    """Poll the phases of ``workflow_ids`` until every one has ended or waits for a person (or
    ``timeout`` seconds passed); ``on_change(elapsed, counts)`` is called when the per-phase counts
    change. Returns the last phases."""
    t0 = time.monotonic()
    last = None
    current: dict[str, str] = {}
    while True:
        current = await phases(client, workflow_ids)
        counts = phase_counts(current, len(workflow_ids))
        if counts != last and on_change:
            on_change(time.monotonic() - t0, counts)
        last = counts
        if len(current) == len(workflow_ids) and all(settled(p) for p in current.values()):
            return current
        if timeout is not None and time.monotonic() - t0 >= timeout:
            return current
        await asyncio.sleep(interval)
