"""Workflow code stays deterministic. Temporal's sandbox guards the workflow code at run time —
as long as it is not passed through (worker.WORKFLOW_RUNNER passes only `a2p`, our stateless
models and constants). This test keeps it that way, and reads all the code that runs inside
workflows, including the branches no test reaches, for the house rules: no Twilio, no I/O, no
wall clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The workflows and the domain modules they import (a2p.metrics is only read worker-side).
WORKFLOW_CODE = sorted((ROOT / "workflows").glob("*.py")) + [
    ROOT / "a2p" / f"{name}.py" for name in ("calls", "constants", "progress", "timings", "search_attributes")
] + sorted((ROOT / "a2p" / "requests").glob("*.py"))
FORBIDDEN_IMPORTS = {"twilio", "httpx", "requests", "socket", "random", "time", "os", "subprocess", "threading",
                     "uuid", "secrets", "asyncio.subprocess", "activities", "starter", "sandbox", "worker",
                     "infra", "structlog"}
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


def passed_through(path: Path) -> list[str]:
    """Modules imported inside `with workflow.unsafe.imports_passed_through():` blocks."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.With) and "imports_passed_through" in ast.unparse(node.items[0].context_expr):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    found.append(inner.module or "")
                elif isinstance(inner, ast.Import):
                    found += [a.name for a in inner.names]
    return found


def test_only_stateless_models_bypass_the_sandbox() -> None:
    from worker import WORKFLOW_RUNNER

    assert not {"workflows", "activities", "starter", "worker"} & WORKFLOW_RUNNER.restrictions.passthrough_modules
    for path in sorted((ROOT / "workflows").glob("*.py")):
        outside = [m for m in passed_through(path) if m.split(".")[0] not in ("a2p", "pydantic")]
        assert outside == [], f"{path.name} passes {outside} through the sandbox"


def test_the_check_sees_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text("import twilio\nfrom datetime import datetime\nx = datetime.now()\n"
                   "from temporalio import workflow\ny = workflow.now()\nopen('f')\n")
    found = problems(bad)
    assert [f.split(": ", 1)[1] for f in found] == [
        "imports twilio", "calls datetime.now() (use workflow.now()/workflow.sleep())", "calls open()"]
