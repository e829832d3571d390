"""All configuration, in one place: read from the environment (and an optional `.env` file),
validated at start-up with a message that names each missing or bad setting.

Environment variable = field name in upper case (e.g. ``TWILIO_ACCOUNT_SID``).
"""

from __future__ import annotations

import re
import sys
from typing import Any, Literal

from pydantic import (
    Field, ModelWrapValidatorHandler, SecretStr, ValidationError, field_validator, model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """Raised at start-up when the configuration is unusable; the message names every problem."""


_CREDENTIALS = "TWILIO_AUTH_TOKEN (or both TWILIO_API_KEY and TWILIO_API_SECRET)"
_NO_CREDENTIALS = PydanticCustomError("twilio_credentials", "set " + _CREDENTIALS)
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_API_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")
_BUNDLE_SID = re.compile(r"^BU[0-9a-fA-F]{32}$")


class TemporalSettings(BaseSettings):
    """What any client of Temporal needs — the read-only CLI commands (status, list, counts) need
    nothing more; Twilio's settings are required only where Twilio is called (:class:`Settings`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Temporal
    temporal_address: str = Field("localhost:7233", description="host:port of the Temporal frontend")
    temporal_namespace: str = Field("default", description="Temporal namespace")
    temporal_task_queue: str = Field("a2p-registrar", description="task queue of workflows and activities")
    temporal_ui_url: str = Field("http://localhost:8233", description="Temporal Web UI, for links to workflows")
    temporal_api_key: SecretStr | None = Field(None, description="Temporal Cloud API key (implies TLS)")
    temporal_tls_cert: str | None = Field(None, description="client certificate (PEM file) for mTLS, e.g. Temporal Cloud")
    temporal_tls_key: str | None = Field(None, description="its private key (PEM file)")
    a2p_payload_keys: SecretStr | None = Field(
        None, description="AES-256 keys encrypting workflow payloads: id1:base64,id2:base64 (newest first); "
                          "unset = payloads stored in clear (development only)"
    )
    a2p_metrics_bind: str | None = Field(
        None, description="host:port serving Prometheus metrics (Temporal SDK + a2p counters), e.g. 0.0.0.0:9464"
    )

    # Stalls: a registration whose workflow task has been scheduled or started this long has stalled
    # (3x the 10 s workflow task timeout): counted in a2p_stalled_registrations, listed by the
    # read-only `a2p list --stalled`; a worker holding such a task fails its health check.
    a2p_stall_after_seconds: float = Field(30.0, gt=0, description="age of a workflow task that counts as stalled")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v

    @field_validator("a2p_payload_keys")
    @classmethod
    def _keys(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and v.get_secret_value().strip():
            from infra.codec import parse_keys

            parse_keys(v.get_secret_value())
            return v
        return None


class Settings(TemporalSettings):
    """Everything: the worker, the service and the commands that start or change registrations."""

    # Twilio credentials: account SID + auth token, or account SID + API key + secret.
    twilio_account_sid: str = Field(..., description="the ISV's parent account SID (AC...)")
    twilio_auth_token: SecretStr | None = Field(None, description="auth token; also validates webhook signatures")
    twilio_api_key: str | None = Field(None, description="API key SID (SK...), instead of the auth token")
    twilio_api_secret: SecretStr | None = Field(None, description="API key secret")
    a2p_primary_customer_profile_sid: str = Field(
        ..., description="the ISV's approved primary customer profile bundle (BU...)"
    )
    twilio_api_base_url: str | None = Field(
        None, description="unset: real Twilio; set (e.g. http://127.0.0.1:8010): the sandbox, for all three API hosts"
    )
    twilio_http_timeout_seconds: float = Field(20.0, gt=0, description="timeout of one Twilio HTTP request")
    twilio_max_concurrent_requests: int | None = Field(
        None, ge=1, description="at most this many Twilio requests in flight per account from one worker "
                                "(Twilio's concurrency limit per account, divided among the workers); unset = no cap"
    )
    a2p_max_cached_workflows: int = Field(
        500, ge=100, description="registrations a worker keeps in memory (~0.2 MB each; at least its 100 concurrent "
                                 "workflow tasks); the others are replayed from their history when they next wake"
    )
    # What one worker takes on at once: no more than it can finish within the 10 s workflow task
    # timeout on its CPUs. Work beyond it waits in Temporal's task queue (and batches wait in the
    # starter, A2P_START_BACKLOG_LIMIT), not half-done in an overloaded worker.
    a2p_max_concurrent_workflow_tasks: int = Field(
        10, ge=2, le=100, description="workflow tasks a worker runs at once (CPU-bound: a few per core)")
    a2p_workflow_task_pollers: int = Field(
        5, ge=2, le=20, description="concurrent polls for workflow tasks (at most the slots above)")
    a2p_max_concurrent_activities: int = Field(
        100, ge=1, le=1000, description="Twilio calls a worker has in flight at once (I/O-bound)")
    a2p_activity_task_pollers: int = Field(
        5, ge=1, le=50, description="concurrent polls for activity tasks")
    a2p_start_backlog_limit: int = Field(
        40, ge=1, description="a batch start waits while this many registrations are busy (starting, building "
                               "bundles, setting up the campaign; not waiting for reviews or the customer)")

    a2p_stall_check_interval_seconds: float = Field(
        60.0, gt=0, description="how often the service looks for stalled registrations")
    a2p_worker_health_bind: str | None = Field(
        None, description="host:port where a worker answers GET /healthz (503 when it stopped completing "
                          "workflow tasks it holds); unset = no health endpoint")

    # Where Twilio's webhooks reach us (status callbacks of bundles).
    a2p_events_per_run: int = Field(
        5000, ge=100, le=40_000,
        description="history events after which a registration in a long wait (its OTP, a review, a wait for "
                    "a person) continues as a new run (Temporal warns at 10,240 and stops at 51,200)",
    )
    a2p_public_base_url: str | None = Field(
        None, description="public base URL of the registration service, e.g. https://a2p.example.com"
    )

    a2p_callback_secret: SecretStr | None = Field(
        None, description="key of the token that binds each bundle status callback URL to its registration "
                          "(HMAC of the workflow id); unset = derived from TWILIO_AUTH_TOKEN / TWILIO_API_SECRET"
    )
    a2p_accept_untokened_callbacks: bool = Field(
        False, description="accept signed bundle status callbacks whose URL has no token (registrations started "
                           "before callbacks were bound to them); off: those are refused and polled"
    )

    # The registration service (starter/service.py).
    a2p_service_api_key: SecretStr | None = Field(
        None, description="bearer key the ISV's signup service sends; the API refuses every call when unset"
    )
    a2p_service_host: str = Field("127.0.0.1", description="address the service listens on")
    a2p_service_port: int = Field(8080, ge=0, le=65535, description="port the service listens on")
    a2p_event_sink_username: str | None = Field(
        None, description="Basic credentials in the Event Streams sink URL, when the sink is not signed"
    )
    a2p_event_sink_password: SecretStr | None = Field(None, description="see A2P_EVENT_SINK_USERNAME")

    a2p_codec_api_key: SecretStr | None = Field(
        None, description="bearer key the Temporal Web UI sends to the service's /codec endpoint; unset = codec off"
    )
    a2p_codec_cors_origins: str = Field(
        "http://localhost:8233", description="comma-separated origins of the Web UI allowed to call /codec"
    )
    @model_validator(mode="after")
    def _pollers(self) -> Settings:
        if self.a2p_workflow_task_pollers > self.a2p_max_concurrent_workflow_tasks:
            raise ValueError("A2P_WORKFLOW_TASK_POLLERS must not exceed A2P_MAX_CONCURRENT_WORKFLOW_TASKS")
        return self

    @field_validator("twilio_account_sid")
    @classmethod
    def _account_sid(cls, v: str) -> str:
        if not _ACCOUNT_SID.match(v):
            raise ValueError("must be an account SID: AC followed by 32 hex digits")
        return v

    @field_validator("twilio_api_key")
    @classmethod
    def _api_key(cls, v: str | None) -> str | None:
        if v is not None and not _API_KEY_SID.match(v):
            raise ValueError("must be an API key SID: SK followed by 32 hex digits")
        return v

    @field_validator("a2p_primary_customer_profile_sid")
    @classmethod
    def _primary_profile(cls, v: str) -> str:
        if not _BUNDLE_SID.match(v):
            raise ValueError("must be a customer profile bundle SID: BU followed by 32 hex digits")
        return v

    @field_validator("twilio_api_base_url", "a2p_public_base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/")

    @model_validator(mode="wrap")
    @classmethod
    def _credentials(cls, data: Any, handler: ModelWrapValidatorHandler[Settings]) -> Settings:
        """Twilio's credentials: the auth token, or an API key and its secret. Checked on the input,
        so that they are named with every other missing or bad setting, not in a second round
        once those are fixed."""
        lacking = isinstance(data, dict) and data.get("twilio_auth_token") is None and (
            data.get("twilio_api_key") is None or data.get("twilio_api_secret") is None)
        try:
            settings = handler(data)
        except ValidationError as err:
            if not lacking:
                raise
            problems = []
            for e in err.errors():
                problem = InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"])
                if "ctx" in e:
                    problem["ctx"] = e["ctx"]
                problems.append(problem)
            problems.append(InitErrorDetails(type=_NO_CREDENTIALS, loc=(), input=data))
            raise ValidationError.from_exception_data(err.title, problems) from None
        if lacking:
            raise _NO_CREDENTIALS
        return settings

    @property
    def uses_sandbox(self) -> bool:
        return self.twilio_api_base_url is not None

    def status_callback_url(self, workflow_id: str) -> str | None:
        """Where Twilio posts a bundle's status changes for this registration (None: no webhooks):
        the workflow id and a token binding the URL to it (:meth:`callback_token`)."""
        if self.a2p_public_base_url is None:
            return None
        from urllib.parse import quote

        return (f"{self.a2p_public_base_url}/webhooks/trusthub?workflow_id={quote(workflow_id, safe='')}"
                f"&token={self.callback_token(workflow_id)}")

    def callback_token(self, workflow_id: str) -> str:
        """HMAC-SHA256(A2P_CALLBACK_SECRET, workflow id), hex: the service refuses a callback whose
        URL names another workflow id than its token was made for."""
        import hashlib
        import hmac

        if self.a2p_callback_secret is not None:
            key = self.a2p_callback_secret.get_secret_value().encode()
        else:  # derived, so that a deployment (and the demo) works without one more secret
            secret = self.twilio_auth_token or self.twilio_api_secret
            key = hmac.new(secret.get_secret_value().encode() if secret else b"", b"a2p status callback token",
                           hashlib.sha256).digest()
        return hmac.new(key, workflow_id.encode(), hashlib.sha256).hexdigest()


def describe_errors(err: ValidationError) -> str:
    """Every problem: what is not set on one line (Twilio's credentials with the rest), then each
    bad value on a line of its own; a single problem is a single line."""
    unset, lines = [], []
    for e in err.errors():
        name = ".".join(str(p) for p in e["loc"]).upper() or "configuration"
        if e["type"] == "missing":
            unset.append(name)
        elif e["type"] == _NO_CREDENTIALS.type:
            unset.append(_CREDENTIALS)
        else:
            lines.append(f"{name}: {e['msg'].removeprefix('Value error, ')}")
    if unset:
        lines.insert(0, "set " + (", ".join(unset[:-1]) + " and " + unset[-1] if len(unset) > 1 else unset[0]))
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration:\n" + "\n".join(f"  {line}" for line in lines)


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        raise SettingsError(describe_errors(err)) from None


def load_temporal_settings(**overrides: object) -> TemporalSettings:
    """Only what a Temporal client needs (no Twilio settings required)."""
    try:
        return TemporalSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        raise SettingsError(describe_errors(err)) from None


def settings_or_exit(temporal_only: bool = False) -> Settings:
    """For a process starting up: the settings, or exit status 2 with every problem named.
    ``temporal_only``: only Temporal's (the read-only commands), typed as Settings for brevity."""
    try:
        return load_temporal_settings() if temporal_only else load_settings()  # type: ignore[return-value]
    except SettingsError as err:
        print(err, file=sys.stderr)
        raise SystemExit(2) from None
