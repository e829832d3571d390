"""Contract checks of Twilio HTTP exchanges against Twilio's own OpenAPI descriptions.

The three spec files (twilio-oai, see ENDPOINTS.md next to them) are read at test time from
``<repo root>/../shared/twilio-oai`` or ``$A2P_TWILIO_OAI_DIR``; they are never copied into this
repository. Typical use::

    http = RecordingHttpClient()
    client = twilio.rest.Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
    client.trusthub.base_url = sandbox_url          # likewise .messaging / .api
    ...                                             # drive the SDK
    assert_exchanges_conform(http.exchanges)        # every response matches the spec

What is checked for one response (``TwilioSpecs.check_response``):

* the status code is one of the operation's documented responses;
* the JSON body validates against the documented schema (OpenAPI 3.0 semantics via
  ``openapi_schema_validator.OAS30Validator``: ``nullable``, ``oneOf``, ``$ref`` through a
  ``referencing`` registry, ``additionalProperties`` only where the spec states it);
* every property the schema declares is present (Twilio always sends every field, ``null`` when
  empty); optional via ``require_all_properties``;
* optionally (``forbid_unknown_properties=True``, for our own sandbox, which claims Twilio's exact
  shapes) no object carries a property its schema does not declare; real Twilio may add fields
  before the spec does, so this is off by default;
* for list responses, ``meta.key`` names the array that holds the items.

Spec bugs that real Twilio exhibits are relaxed one field at a time in ``KNOWN_QUIRKS``.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

__all__ = [
    "ENV_VAR", "SPEC_FILES", "KNOWN_QUIRKS", "NullableQuirk", "Operation", "Violation",
    "ContractViolation", "TwilioSpecs", "Exchange", "RecordingHttpClient",
    "RecordingAsyncHttpClient", "default_spec_dir", "missing_specs_reason", "find_operation",
    "validate_response", "assert_exchanges_conform",
]

ENV_VAR = "A2P_TWILIO_OAI_DIR"
# short spec name -> file name; the short name is also the first label of the spec's server host.
SPEC_FILES = {
    "trusthub": "twilio_trusthub_v1.json",
    "messaging": "twilio_messaging_v1.json",
    "api": "twilio_api_v2010.json",
}
_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


# --------------------------------------------------------------------------------------------
# Known spec quirks: an explicit allow-list. Each entry relaxes ONE property of ONE component
# schema, and only by also accepting null. Everything else stays as strict as the spec.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NullableQuirk:
    """Accept ``null`` for ``components.schemas[schema].properties[field]`` of spec ``spec``."""

    spec: str
    schema: str
    field: str
    reason: str


KNOWN_QUIRKS: tuple[NullableQuirk, ...] = (
    # ENDPOINTS.md 2.3: a PENDING SOLE_PROPRIETOR brand has identity_status null (the spec's own
    # example `fetchSoleProprietorPending` shows it), but the property is a bare $ref to a
    # non-nullable enum. Real Twilio sends null until TCR has verified the brand.
    NullableQuirk(
        "messaging", "messaging.v1.brand_registrations", "identity_status",
        "ENDPOINTS.md 2.3: null for a PENDING Sole Proprietor brand (spec example "
        "fetchSoleProprietorPending); the enum $ref is not nullable in the schema",
    ),
)


def _apply_quirk(spec: dict, quirk: NullableQuirk) -> None:
    props = spec["components"]["schemas"][quirk.schema]["properties"]
    prop = props[quirk.field]
    if "$ref" in prop:  # inline the referenced (enum) schema so that `nullable` can sit next to it
        prop = dict(_resolve_local(spec, prop["$ref"]))
    prop = {**prop, "nullable": True}
    if "enum" in prop and None not in prop["enum"]:  # OAS 3.0.3: null must be listed in an enum
        prop["enum"] = [*prop["enum"], None]
    props[quirk.field] = prop


# --------------------------------------------------------------------------------------------
# Formats. OAS30's own checkers (date-time, date, int32, ...) plus Twilio's custom formats that
# have a clear meaning; any other format (phone-number, currency, ...) is an annotation only.
# --------------------------------------------------------------------------------------------
_FORMATS = FormatChecker(formats=())
_FORMATS.checkers = dict(OAS30Validator.FORMAT_CHECKER.checkers)


@_FORMATS.checks("date-time-rfc-2822", raises=(TypeError, ValueError))
def _is_rfc2822(value: object) -> bool:  # v2010 dates: "Tue, 18 Aug 2015 17:07:30 +0000"
    return not isinstance(value, str) or email.utils.parsedate_to_datetime(value) is not None


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    # Twilio's "uri" is really a URI reference: absolute URLs, but also relative ones such as
    # v2010 `first_page_uri`. Reject only obvious garbage (no scheme+host and no leading "/").
    if not isinstance(value, str):
        return True
    parts = urllib.parse.urlsplit(value)
    return (bool(parts.scheme and parts.netloc) or value.startswith("/")) and not re.search(r"\s", value)


@_FORMATS.checks("uri-map")
def _is_uri_map(value: object) -> bool:  # `links`: {name: absolute or relative URL}
    return not isinstance(value, dict) or all(isinstance(v, str) and _is_uri(v) for v in value.values())


@_FORMATS.checks("http-method")
def _is_http_method(value: object) -> bool:
    return not isinstance(value, str) or value.upper() == value and value.lower() in _METHODS


@_FORMATS.checks("iso-country-code")
def _is_iso_country(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"[A-Z]{2}", value) is not None


# Twilio's JSON error envelope. The specs document no 4xx/5xx response at all, so an error
# exchange is only accepted with allow_error_status=True, and then must look like this.
TWILIO_ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "more_info": {"type": "string"},
        "status": {"type": "integer"},
    },
}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    """One OpenAPI operation: ``spec`` short name, ``method`` (upper), ``path`` template."""

    spec: str
    host: str
    method: str
    path: str
    operation: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def operation_id(self) -> str:
        return self.operation.get("operationId", "?")

    @property
    def statuses(self) -> list[str]:
        return list(self.operation.get("responses", {}))

    @property
    def pointer(self) -> str:
        """JSON pointer (fragment) of the operation inside its spec."""
        return f"#/paths/{_esc(self.path)}/{self.method.lower()}"

    def __str__(self) -> str:
        return f"{self.spec} {self.operation_id} [{self.method} {self.path}]"


@dataclass(frozen=True)
class Violation:
    """One contract failure: JSON ``pointer`` into the body ("" = root), ``rule``, ``message``."""

    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '(root)'} [{self.rule}]: {self.message}"


class ContractViolation(AssertionError):
    """Raised by ``validate_response``; ``.violations`` holds the structured failures."""

    def __init__(self, headline: str, violations: list[Violation]):
        self.violations = violations
        super().__init__(headline + "".join(f"\n  - {v}" for v in violations))


# --------------------------------------------------------------------------------------------
# Spec loading, operation lookup, validation
# --------------------------------------------------------------------------------------------
def default_spec_dir() -> Path:
    """``$A2P_TWILIO_OAI_DIR`` or ``<repo root>/../shared/twilio-oai``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "twilio-oai"


def missing_specs_reason(directory: str | os.PathLike | None = None) -> str | None:
    """None when all three spec files are readable, else a human-readable skip reason."""
    d = Path(directory) if directory else default_spec_dir()
    missing = [n for n in SPEC_FILES.values() if not (d / n).is_file()]
    if missing:
        return (f"Twilio OpenAPI specs not found in {d} (missing {', '.join(missing)}); "
                f"put twilio-oai's spec/json files there or set {ENV_VAR}")
    return None


def _esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(parts: Iterable[Any]) -> str:
    return "".join(f"/{_esc(str(p))}" for p in parts)


def _resolve_local(spec: Mapping, ref: str) -> Any:
    node: Any = spec
    for token in ref.lstrip("#").strip("/").split("/"):
        if token:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _short(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SPECS_CACHE: dict[tuple[str, tuple[NullableQuirk, ...]], "TwilioSpecs"] = {}


class TwilioSpecs:
    """The three Twilio specs, parsed once, with compiled validators cached per schema."""

    def __init__(self, specs: dict[str, dict], quirks: tuple[NullableQuirk, ...]):
        self.specs = specs
        self.quirks = quirks
        self.hosts = {name: urllib.parse.urlsplit(s["servers"][0]["url"]).netloc
                      for name, s in specs.items()}
        self._registry = Registry().with_resources(
            (self._uri(name), DRAFT4.create_resource(s)) for name, s in specs.items())
        self._validators: dict[str, OAS30Validator] = {}
        # (spec, template, regex, specificity). Specificity sorts literal segments before
        # templated ones, left to right, so /v1/Services/Usecases beats /v1/Services/{Sid}.
        self._routes = []
        for name, s in specs.items():
            for template in s["paths"]:
                segments = template.strip("/").split("/")
                regex = "".join(re.escape(p) if not p.startswith("{") else "[^/]+"
                                for p in re.split(r"(\{[^}/]+\})", template))
                rank = tuple(1 if "{" in seg else 0 for seg in segments)
                self._routes.append((name, template, re.compile(f"^{regex}$"), rank))

    @classmethod
    def load(cls, directory: str | os.PathLike | None = None,
             quirks: tuple[NullableQuirk, ...] = KNOWN_QUIRKS) -> "TwilioSpecs":
        """Load (once per directory and quirk set) the three specs; raises FileNotFoundError."""
        d = Path(directory) if directory else default_spec_dir()
        key = (str(d.resolve()), tuple(quirks))
        if key not in _SPECS_CACHE:
            reason = missing_specs_reason(d)
            if reason:
                raise FileNotFoundError(reason)
            specs = {name: json.loads((d / fn).read_text(encoding="utf-8"))
                     for name, fn in SPEC_FILES.items()}
            for quirk in quirks:
                _apply_quirk(specs[quirk.spec], quirk)
            _SPECS_CACHE[key] = cls(specs, tuple(quirks))
        return _SPECS_CACHE[key]

    @staticmethod
    def _uri(spec: str) -> str:
        return f"urn:twilio-oai:{spec}"

    def _validator(self, spec: str, pointer: str) -> OAS30Validator:
        """Compiled validator for the schema at ``pointer`` ("#/...") of ``spec``; cached."""
        ref = f"{self._uri(spec)}{pointer}"
        if ref not in self._validators:
            self._validators[ref] = OAS30Validator(
                {"$ref": ref}, registry=self._registry, format_checker=_FORMATS)
        return self._validators[ref]

    # -- lookup ------------------------------------------------------------------------------
    def find_operation(self, method: str, url_or_path: str, host_hint: str | None = None) -> Operation:
        """The operation serving ``method url_or_path`` (query ignored; host narrows the specs
        only when it is a Twilio host or ``host_hint`` names one). Raises AssertionError."""
        parts = urllib.parse.urlsplit(url_or_path)
        path = parts.path or "/"
        hint = (host_hint or parts.netloc or "").split(":")[0].lower()
        names = [n for n, h in self.hosts.items() if hint and hint in (n, h)] or list(self.specs)
        candidates = sorted((rank, name, template) for name, template, regex, rank in self._routes
                            if name in names and regex.match(path))
        if not candidates:
            raise AssertionError(f"no operation in specs {names} matches path {path!r}")
        best = [c for c in candidates if c[0] == candidates[0][0]]
        if len(best) > 1:
            raise AssertionError(f"ambiguous path {path!r}: {[(n, t) for _, n, t in best]}")
        _, name, template = best[0]
        item = self.specs[name]["paths"][template]
        op = item.get(method.lower())
        if op is None:
            have = [m.upper() for m in item if m in _METHODS]
            raise AssertionError(f"{name} path {template} has no {method.upper()} operation (has {have})")
        return Operation(name, self.hosts[name], method.upper(), template, op)

    def response_examples(self, method: str, url_or_path: str) -> list[tuple[int, str, Any]]:
        """The spec's own response examples of an operation: [(status, example name, value)]."""
        op = self.find_operation(method, url_or_path)
        return [(int(status), name, ex["value"])
                for status, resp in op.operation.get("responses", {}).items()
                for name, ex in resp.get("content", {}).get("application/json", {})
                                    .get("examples", {}).items()]

    # -- validation ----------------------------------------------------------------------------
    def check_response(self, method: str, url_or_path: str, status_code: int, body: Any, *,
                       host_hint: str | None = None, require_all_properties: bool = True,
                       allow_error_status: bool = False,
                       forbid_unknown_properties: bool = False) -> tuple[Operation, list[Violation]]:
        """Non-raising core of ``validate_response``: (operation, violations)."""
        op = self.find_operation(method, url_or_path, host_hint)
        responses = op.operation.get("responses", {})
        resp = responses.get(str(status_code), responses.get("default"))
        if resp is None:
            if allow_error_status and status_code >= 400:
                return op, self._check_error_body(status_code, body)
            return op, [Violation("", "status", f"HTTP {status_code} is not a documented response "
                                                f"of {op.operation_id} (documented: {op.statuses})")]
        media = resp.get("content", {}).get("application/json")
        if media is None or "schema" not in media:
            if body not in (None, "", {}):
                return op, [Violation("", "body", f"HTTP {status_code} documents no body, got "
                                                  f"{_short(repr(body))}")]
            return op, []
        if body is None:
            return op, [Violation("", "body", f"HTTP {status_code} documents a JSON body, got none")]
        key = next(k for k, v in responses.items() if v is resp)
        pointer = f"{op.pointer}/responses/{_esc(key)}/content/application~1json/schema"
        violations = self._schema_violations(op.spec, pointer, body)
        violations += self._list_key_violations(op.spec, pointer, body)
        if require_all_properties or forbid_unknown_properties:
            self._property_violations(op.spec, pointer, body, [], violations,
                                      missing=require_all_properties, unknown=forbid_unknown_properties)
        return op, violations

    def validate_response(self, method: str, url_or_path: str, status_code: int, body: Any, *,
                          host_hint: str | None = None, require_all_properties: bool = True,
                          allow_error_status: bool = False,
                          forbid_unknown_properties: bool = False) -> Operation:
        """Raise ContractViolation (an AssertionError) listing every violation; return the op.
        ``allow_error_status``: accept an undocumented 4xx/5xx whose body is Twilio's error
        envelope (the specs document no error responses at all). ``forbid_unknown_properties``:
        also reject properties the schema does not declare."""
        op, violations = self.check_response(
            method, url_or_path, status_code, body, host_hint=host_hint,
            require_all_properties=require_all_properties, allow_error_status=allow_error_status,
            forbid_unknown_properties=forbid_unknown_properties)
        if violations:
            raise ContractViolation(f"{method.upper()} {url_or_path} -> {status_code} violates {op}:",
                                    violations)
        return op

    def assert_exchanges_conform(self, exchanges: Iterable["Exchange | tuple"], *,
                                 require_all_properties: bool = True,
                                 allow_error_status: bool = False,
                                 forbid_unknown_properties: bool = False) -> list[Operation]:
        """Validate every Exchange or (method, url, status, body) tuple; one AssertionError with
        all failures. Returns the operations exercised (in order) for coverage assertions."""
        options = dict(require_all_properties=require_all_properties,
                       allow_error_status=allow_error_status,
                       forbid_unknown_properties=forbid_unknown_properties)
        failures, ops = [], []
        for i, ex in enumerate(exchanges):
            method, url, status, body = (ex.method, ex.url, ex.status, ex.body) \
                if isinstance(ex, Exchange) else tuple(ex)[:4]
            try:
                ops.append(self.validate_response(method, url, status, body, **options))
            except AssertionError as e:
                raw = ex.text if isinstance(ex, Exchange) and ex.body is None else ""
                failures.append(f"[{i}] {e}" + (f"\n    raw body: {_short(raw)}" if raw.strip() else ""))
        if failures:
            raise AssertionError(f"{len(failures)} of {i + 1} exchange(s) violate the Twilio "
                                 f"OpenAPI contract:\n" + "\n".join(failures))
        return ops

    def check_request(self, method: str, url_or_path: str, data: Mapping[str, Any] | None, *,
                      host_hint: str | None = None) -> tuple[Operation, list[Violation]]:
        """The form an SDK sent, against the operation's ``application/x-www-form-urlencoded``
        request schema: no parameter the spec does not declare, every required one present, and
        each value of its declared type (form strings read as the spec's boolean / integer /
        number; arrays as repeated values), enum and format."""
        op = self.find_operation(method, url_or_path, host_hint)
        media = op.operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded")
        form = dict(data or {})
        if media is None:
            return op, [Violation("", "body", f"{op.operation_id} takes no form body, got {sorted(form)}")] \
                if form else []
        pointer = f"{op.pointer}/requestBody/content/application~1x-www-form-urlencoded/schema"
        schema = self._deref(op.spec, _resolve_local(self.specs[op.spec], pointer))
        properties = schema.get("properties", {})
        violations = [Violation(f"/{_esc(k)}", "unknown", f"{k!r} is not a parameter of {op.operation_id}")
                      for k in sorted(set(form) - set(properties))]
        typed = {k: _form_value(v, self._deref(op.spec, properties[k])) for k, v in form.items() if k in properties}
        return op, violations + self._schema_violations(op.spec, pointer, typed)

    def assert_requests_conform(self, exchanges: Iterable["Exchange"]) -> list[Operation]:
        """``check_request`` for every exchange; one AssertionError listing all failures."""
        failures, ops = [], []
        for i, ex in enumerate(exchanges):
            op, violations = self.check_request(ex.method, ex.url, ex.data)
            ops.append(op)
            if violations:
                failures.append(f"[{i}] {ex.method} {ex.url} {op}:\n" + "\n".join(f"    {v}" for v in violations))
        if failures:
            raise AssertionError(f"{len(failures)} request(s) violate the Twilio OpenAPI contract:\n"
                                 + "\n".join(failures))
        return ops

    # -- helpers -------------------------------------------------------------------------------
    def _schema_violations(self, spec: str, pointer: str, body: Any) -> list[Violation]:
        validator = self._validator(spec, pointer)
        out: dict[Violation, None] = {}  # ordered set: OAS30 reports a bad null twice ("type")
        for err in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
            out.setdefault(self._describe(spec, pointer, err))
        return list(out)

    def _schema_location(self, spec: str, pointer: str, schema_path: Iterable[Any]) -> str:
        """Follow an error's schema path from the response schema, through the $refs that
        jsonschema does not record, to the failing keyword's JSON pointer in the spec, e.g.
        #/components/schemas/customer_profile_enum_status/enum."""
        loc, node = pointer, _resolve_local(self.specs[spec], pointer)
        for token in schema_path:
            while isinstance(node, dict) and "$ref" in node and (token == "$ref" or token not in node):
                loc, node = node["$ref"], _resolve_local(self.specs[spec], node["$ref"])
            if token != "$ref":
                loc, node = f"{loc}/{_esc(str(token))}", node[token]
        return loc

    def _describe(self, spec: str, pointer: str, err: ValidationError) -> Violation:
        where = _pointer(err.absolute_path)
        rule = str(err.validator)
        loc = self._schema_location(spec, pointer, err.absolute_schema_path)
        if err.instance is None and rule == "type":
            msg = f"null is not allowed (type {err.validator_value!r} without nullable: true)"
        elif rule in ("oneOf", "anyOf"):
            if not err.context:
                msg = f"valid under more than one {rule} branch"
            else:
                branches: dict[int, list[str]] = {}
                for sub in err.context:
                    i = sub.relative_schema_path[0]
                    branches.setdefault(i, []).append(
                        f"{_pointer(sub.absolute_path) or '(root)'} [{sub.validator}] {_short(sub.message, 160)}")
                options = _resolve_local(self.specs[spec], loc)
                msg = f"matches no {rule} branch: " + "; ".join(
                    f"branch {i} ({options[i].get('$ref', 'inline').split('/')[-1]}): " + ", ".join(m)
                    for i, m in sorted(branches.items()))
        else:
            msg = _short(err.message)
        return Violation(where, rule, f"{msg} (schema {loc})")

    def _list_key_violations(self, spec: str, pointer: str, body: Any) -> list[Violation]:
        schema = self._deref(spec, _resolve_local(self.specs[spec], pointer))
        props = schema.get("properties", {})
        meta = self._deref(spec, props.get("meta", {}))
        if "key" not in meta.get("properties", {}) or not isinstance(body, dict):
            return []
        arrays = [k for k, v in props.items() if k != "meta" and self._deref(spec, v).get("type") == "array"]
        key = body.get("meta", {}).get("key") if isinstance(body.get("meta"), dict) else None
        if key is None:
            return [Violation("/meta/key", "meta.key", f"list response lacks meta.key (items are under {arrays})")]
        if key not in arrays:
            return [Violation("/meta/key", "meta.key", f"meta.key is {key!r} but this operation's "
                                                       f"items are under {arrays}")]
        if not isinstance(body.get(key), list):
            return [Violation(f"/{_esc(key)}", "meta.key", f"meta.key names {key!r} but the body has "
                                                           f"no array there")]
        return []

    def _deref(self, spec: str, schema: Mapping) -> Mapping:
        while isinstance(schema, Mapping) and "$ref" in schema:
            schema = _resolve_local(self.specs[spec], schema["$ref"])
        return schema

    def _property_violations(self, spec: str, pointer: str, instance: Any, at: list,
                             out: list[Violation], *, missing: bool = True, unknown: bool = False) -> None:
        """Walk body and schema together; report declared properties absent from an object
        (``missing``) and properties an object has that its schema does not declare (``unknown``)."""
        schema = _resolve_local(self.specs[spec], pointer)
        while "$ref" in schema:
            pointer = schema["$ref"]
            schema = _resolve_local(self.specs[spec], pointer)
        for kw in ("oneOf", "anyOf"):  # follow the (first) branch the instance actually matches
            for i in range(len(schema.get(kw, []))):
                if self._validator(spec, f"{pointer}/{kw}/{i}").is_valid(instance):
                    self._property_violations(spec, f"{pointer}/{kw}/{i}", instance, at, out,
                                              missing=missing, unknown=unknown)
                    break
        for i in range(len(schema.get("allOf", []))):
            self._property_violations(spec, f"{pointer}/allOf/{i}", instance, at, out,
                                      missing=missing, unknown=unknown)
        if isinstance(instance, dict) and "properties" in schema:
            absent = [k for k in schema["properties"] if k not in instance]
            if missing and absent:
                out.append(Violation(_pointer(at), "present",
                                     f"missing declared properties {absent} (Twilio sends every "
                                     f"field, null when empty) (schema {pointer})"))
            # allOf siblings may declare the rest of the object; the specs use none today
            undeclared = [k for k in instance if k not in schema["properties"]]
            if unknown and undeclared and "allOf" not in schema:
                out.append(Violation(_pointer(at), "unknown",
                                     f"undeclared properties {undeclared} (schema {pointer})"))
            for k in schema["properties"]:
                if instance.get(k) is not None:
                    self._property_violations(spec, f"{pointer}/properties/{_esc(k)}", instance[k],
                                              at + [k], out, missing=missing, unknown=unknown)
        if isinstance(instance, list) and isinstance(schema.get("items"), dict):
            for i, item in enumerate(instance):
                self._property_violations(spec, f"{pointer}/items", item, at + [i], out,
                                          missing=missing, unknown=unknown)

    @staticmethod
    def _check_error_body(status_code: int, body: Any) -> list[Violation]:
        errors = [Violation(_pointer(e.absolute_path), str(e.validator), f"Twilio error envelope: {e.message}")
                  for e in OAS30Validator(TWILIO_ERROR_SCHEMA).iter_errors(body)]
        if not errors and body["status"] != status_code:
            errors.append(Violation("/status", "const", f"error body status {body['status']} != HTTP {status_code}"))
        return errors


# Module-level conveniences over the default spec directory (cached).
def find_operation(method: str, url_or_path: str, host_hint: str | None = None) -> Operation:
    """``TwilioSpecs.load().find_operation``."""
    return TwilioSpecs.load().find_operation(method, url_or_path, host_hint)


def validate_response(method: str, path: str, status_code: int, body: dict | None,
                      **options: Any) -> Operation:
    """``TwilioSpecs.load().validate_response``: raise ContractViolation on any violation."""
    return TwilioSpecs.load().validate_response(method, path, status_code, body, **options)


def assert_exchanges_conform(exchanges: Iterable["Exchange | tuple"], **options: Any) -> list[Operation]:
    """``TwilioSpecs.load().assert_exchanges_conform``: one AssertionError for all failures."""
    return TwilioSpecs.load().assert_exchanges_conform(exchanges, **options)


def _form_value(value: Any, schema: Mapping[str, Any]) -> Any:
    """A form value (string, or list of strings for a repeated key) as the JSON type the request
    schema declares; a value that does not read as that type stays a string (and fails validation)."""
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        return [_form_value(v, items) for v in (value if isinstance(value, (list, tuple)) else [value])]
    if isinstance(value, (list, tuple)):
        return list(value)
    text = str(value)
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind == "integer" and re.fullmatch(r"-?\d+", text):
        return int(text)
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            return text
    return text


# --------------------------------------------------------------------------------------------
# Recording HTTP clients: the SDK's supported extension point (Client(..., http_client=...)).
# --------------------------------------------------------------------------------------------
@dataclass
class Exchange:
    """One request/response seen by a recording client. ``body`` is the parsed JSON or None."""

    method: str
    url: str
    status: int
    body: Any
    text: str
    params: dict | None = None
    data: dict | None = None
    headers: dict | None = None

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.url).path

    @classmethod
    def of(cls, method: str, url: str, params, data, headers, response: Response) -> "Exchange":
        text = response.text or ""
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = None  # not JSON; `text` keeps the raw payload, validation reports "no body"
        return cls(method.upper(), url, int(response.status_code), body, text,
                   dict(params) if params else None, dict(data) if data else None,
                   dict(headers) if headers else None)


class RecordingHttpClient(TwilioHttpClient):
    """TwilioHttpClient that appends every exchange to ``self.exchanges``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.exchanges: list[Exchange] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False) -> Response:
        response = super().request(method, url, params=params, data=data, headers=headers,
                                   auth=auth, timeout=timeout, allow_redirects=allow_redirects)
        self.exchanges.append(Exchange.of(method, url, params, data, headers, response))
        return response


class RecordingAsyncHttpClient(AsyncTwilioHttpClient):
    """AsyncTwilioHttpClient that appends every exchange to ``self.exchanges``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.exchanges: list[Exchange] = []

    async def request(self, method, url, params=None, data=None, headers=None, auth=None,
                      timeout=None, allow_redirects=False) -> Response:
        response = await super().request(method, url, params=params, data=data, headers=headers,
                                         auth=auth, timeout=timeout, allow_redirects=allow_redirects)
        self.exchanges.append(Exchange.of(method, url, params, data, headers, response))
        return response
