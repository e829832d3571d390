"""Leaving a process that ran the Temporal SDK."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Exit with ``code`` without the interpreter's teardown, where the SDK's native runtime can
    crash (temporalio/sdk-python#300) and turn a clean stop into a non-zero exit. Output is flushed
    first; nothing else (atexit handlers, finalizers) runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
