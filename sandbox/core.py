"""The sandbox itself: configuration, clock, store, scheduler, webhooks, faults and accounts, wired
together. The HTTP layer (:mod:`sandbox.app`) holds one :class:`Sandbox` in ``app.state.sandbox``.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from starlette.requests import Request

from . import defaults
from .clock import SandboxClock, Scheduler
from .config import ACCOUNT_SETTINGS, SandboxConfig
from .faults import Faults, Stats
from .policies import PRIMARY_PROFILE_POLICY_SID
from .store import Store
from .webhooks import Webhooks


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None, db_path: str | None = None):
        self.initial_config = (config or SandboxConfig()).model_copy()
        self.config = self.initial_config.model_copy()
        self.store = Store(db_path)
        self.clock = SandboxClock(self.store.get_meta("clock_offset", 0.0))
        self.scheduler = Scheduler(self.clock, self.store, self.config.scheduler_interval_seconds)
        self.webhooks = Webhooks(self)
        self.faults = Faults()
        self.stats = Stats()
        self.base_url = self.config.public_base_url or f"http://127.0.0.1:{defaults.DEFAULT_PORT}"
        self._base_url_fixed = self.config.public_base_url is not None
        # Imported here: the resource modules import this one for typing only.
        from . import brands, messaging, trusthub

        self.tcr = brands.TcrRegistry(self)
        self.otp_limiter = brands.RateLimiter()
        trusthub.register_events(self)
        brands.register_events(self)
        messaging.register_events(self)
        self.ensure_defaults()
        self.store.commit()

    # ---- time --------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> int:
        self.clock.advance(seconds)
        self.store.set_meta("clock_offset", self.clock.offset)
        return self.scheduler.run_due()

    # ---- life cycle --------------------------------------------------------------------------
    def started(self) -> None:
        """Make sure the scheduler runs (also when the app is served without its lifespan)."""
        self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.webhooks.close()
        self.store.close()

    def remember_base_url(self, request: Request) -> None:
        if not self._base_url_fixed:
            host = request.headers.get("host")
            if host:
                self.base_url = f"{request.url.scheme}://{host}"

    def reset(self) -> None:
        """Forget everything except the defaults (parent account, primary profile, start-up config)."""
        for event in list(self.store.all("events")):
            self.scheduler.cancel(event["sid"])
        self.store.clear()
        self.scheduler.reload()
        self.clock.offset = 0.0
        self.config = self.initial_config.model_copy()
        self.scheduler.interval = self.config.scheduler_interval_seconds
        self.faults.clear()
        self.stats.clear()
        self.webhooks.reset()
        self.tcr.rebuild()
        self.otp_limiter.clear()
        self.ensure_defaults()
        self.store.commit()

    def update_config(self, changes: dict[str, Any]) -> SandboxConfig:
        self.config = SandboxConfig.model_validate(self.config.model_dump() | changes)
        self.scheduler.interval = self.config.scheduler_interval_seconds
        return self.config

    def setting(self, name: str, account_sid: str | None) -> Any:
        """A setting as it applies to ``account_sid``: the account's own value, else the sandbox's."""
        own = self.store.get_meta("account_config", {}).get(account_sid or "", {})
        return own[name] if name in own else getattr(self.config, name)

    def account_config(self, account_sid: str) -> dict[str, Any]:
        return {name: self.setting(name, account_sid) for name in ACCOUNT_SETTINGS}

    def update_account_config(self, account_sid: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set (or, with None, drop) the account's own values of :data:`ACCOUNT_SETTINGS`."""
        configs = dict(self.store.get_meta("account_config", {}))
        own = {k: v for k, v in (configs.get(account_sid, {}) | changes).items() if v is not None}
        if own:
            configs[account_sid] = own
        else:
            configs.pop(account_sid, None)
        self.store.set_meta("account_config", configs)
        return self.account_config(account_sid)

    # ---- accounts ----------------------------------------------------------------------------
    @property
    def parent_sid(self) -> str:
        return defaults.PARENT_ACCOUNT_SID

    def ensure_defaults(self) -> None:
        now = self.now()
        if self.store.get("accounts", defaults.PARENT_ACCOUNT_SID) is None:
            self.store.put("accounts", {
                "sid": defaults.PARENT_ACCOUNT_SID, "auth_token": defaults.PARENT_AUTH_TOKEN,
                "friendly_name": "ISV parent account", "parent_sid": None, "date_created": now,
            })
        if self.store.get("customer_profiles", defaults.PRIMARY_CUSTOMER_PROFILE_SID) is None:
            self.store.put("customer_profiles", {
                "sid": defaults.PRIMARY_CUSTOMER_PROFILE_SID, "account_sid": defaults.PARENT_ACCOUNT_SID,
                "policy_sid": PRIMARY_PROFILE_POLICY_SID, "friendly_name": "ISV Reseller or Partner primary profile",
                "status": "twilio-approved", "valid_until": None, "email": "compliance@isv.example.com",
                "status_callback": None, "date_created": now, "date_updated": now, "errors": None,
                "failure_reason": None, "submissions": 1,
            })

    def create_subaccount(self, friendly_name: str | None = None, parent_sid: str | None = None) -> dict:
        parent = parent_sid or defaults.PARENT_ACCOUNT_SID
        if self.store.get("accounts", parent) is None:
            raise ValueError(f"unknown parent account {parent}")
        sid = new_sid("AC")
        return self.store.put("accounts", {
            "sid": sid, "auth_token": secrets.token_hex(16), "friendly_name": friendly_name or f"Subaccount {sid[-6:]}",
            "parent_sid": parent, "date_created": self.now(),
        })

    def create_api_key(self, account_sid: str, friendly_name: str | None = None) -> dict:
        if self.store.get("accounts", account_sid) is None:
            raise ValueError(f"unknown account {account_sid}")
        return self.store.put("api_keys", {
            "sid": new_sid("SK"), "secret": secrets.token_urlsafe(24), "account_sid": account_sid,
            "friendly_name": friendly_name, "date_created": self.now(),
        })

    def account_token(self, account_sid: str) -> str | None:
        account = self.store.get("accounts", account_sid)
        return account["auth_token"] if account else None

    def authenticate(self, username: str, password: str) -> str | None:
        """The account a request acts on: ``sid:own_token``, ``subaccount_sid:parent_token`` or
        ``api_key_sid:secret`` (the key's account)."""
        key = self.store.get("api_keys", username) if username.startswith("SK") else None
        if key is not None:
            return key["account_sid"] if secrets.compare_digest(password, key["secret"]) else None
        account = self.store.get("accounts", username)
        if account is None:
            return None
        if secrets.compare_digest(password, account["auth_token"]):
            return account["sid"]
        parent = self.store.get("accounts", account.get("parent_sid"))
        if parent is not None and secrets.compare_digest(password, parent["auth_token"]):
            return account["sid"]
        return None

    def can_act_on(self, authenticated: str, account_sid: str) -> bool:
        if authenticated == account_sid:
            return True
        account = self.store.get("accounts", account_sid)
        return account is not None and account.get("parent_sid") == authenticated
