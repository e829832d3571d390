"""The parts of a local stack, for the demo, the tests and the benchmarks: free ports, settings
that point a2p-registrar at the sandbox, and the child processes a hard stop kills."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from dataclasses import dataclass
from typing import TypeVar

import httpx

from infra.settings import Settings, load_settings
from local_stack.devserver import DevServerProcess
from sandbox import defaults
from sandbox.testing import SandboxControl, SandboxProcess
from starter.service import bind

T = TypeVar("T", bound="DevServerProcess | SandboxProcess")


def free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


@dataclass
class LocalStack:
    settings: Settings
    sandbox: SandboxControl
    ui_url: str
    service_url: str
    api: httpx.AsyncClient  # the service's API, with its key


def bind_preferred(port: int) -> socket.socket:
    """A listening socket on ``port`` if free, else on a free port."""
    try:
        return bind("127.0.0.1", port)
    except OSError:
        return bind("127.0.0.1", 0)


def sandbox_settings(sandbox_url: str, temporal_address: str, **overrides: object) -> Settings:
    """Settings that point a2p-registrar at the sandbox's ISV account."""
    return load_settings(
        twilio_account_sid=defaults.PARENT_ACCOUNT_SID,
        twilio_auth_token=defaults.PARENT_AUTH_TOKEN,
        a2p_primary_customer_profile_sid=defaults.PRIMARY_CUSTOMER_PROFILE_SID,
        twilio_api_base_url=sandbox_url,
        temporal_address=temporal_address,
        **overrides,
    )


class Children:
    """The processes the demo started (each in its own session): what a hard stop kills."""

    def __init__(self) -> None:
        self.items: list[DevServerProcess | SandboxProcess] = []

    def add(self, child: T) -> T:
        self.items.append(child)
        return child

    def kill_all(self) -> None:
        for child in self.items:
            self.kill(child)

    @staticmethod
    def kill(child: DevServerProcess | SandboxProcess) -> None:
        proc = child.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                proc.wait(2)
