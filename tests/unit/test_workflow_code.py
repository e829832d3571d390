"""Workflow code stays deterministic. The worker passes `workflows` and `a2p` through Temporal's
sandbox (worker.WORKFLOW_RUNNER: imported once per process, not once per cached run), so the
sandbox no longer stops a wall-clock read or an I/O import in them: this test does, by reading
the code that runs inside workflows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The workflows and the domain modules they import (a2p.metrics is only read worker-side).
WORKFLOW_CODE = sorted((ROOT / "workflows").glob("*.py")) + [
    ROOT / "a2p" / f"{name}.py" for name in ("calls", "constants", "progress", "requests", "timings",
                                             "search_attributes")]
FORBIDDEN_IMPORTS = {"twilio", "httpx", "requests", "socket", "random", "time", "os", "subprocess", "threading",
                     "uuid", "secrets", "asyncio.subprocess", "activities", "starter", "sandbox", "worker",
                     "a2p.settings", "a2p.temporal_client", "a2p.logging", "structlog"}
# Calls that read the wall clock, sleep for real, or do I/O. `workflow.now()`, `workflow.sleep()`.
FORBIDDEN_METHODS = {"now", "utcnow", "today", "sleep", "urandom"}
FORBIDDEN_NAMES = {"open", "print", "input"}


def problems(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IMPORTS):
                found.append(f"{where}: imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_METHODS
                    and not (isinstance(func.value, ast.Name) and func.value.id == "workflow")):
                found.append(f"{where}: calls {ast.unparse(func)}() (use workflow.now()/workflow.sleep())")
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
                found.append(f"{where}: calls {func.id}()")
    return found


@pytest.mark.parametrize("path", WORKFLOW_CODE, ids=[str(p.relative_to(ROOT)) for p in WORKFLOW_CODE])
def test_workflow_code_has_no_clock_io_or_twilio(path: Path) -> None:
    assert problems(path) == []


def test_the_check_sees_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text("import twilio\nfrom datetime import datetime\nx = datetime.now()\n"
                   "from temporalio import workflow\ny = workflow.now()\nopen('f')\n")
    found = problems(bad)
    assert [f.split(": ", 1)[1] for f in found] == [
        "imports twilio", "calls datetime.now() (use workflow.now()/workflow.sleep())", "calls open()"]
