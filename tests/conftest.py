"""Shared fixtures: a real `temporal` dev server and the sandbox over real HTTP, started once per
test session on free ports and stopped cleanly."""

from __future__ import annotations

import pytest

from infra.logging import configure_logging
from infra.process import exit_now


# End-to-end suites that drive registrations in real (compressed) time: `-m "not slow"` leaves
# them out; tests/workflows covers the same flows on a time-skipping server in seconds.
SLOW = ("tests/reliability/", "tests/integration/test_registration.py", "tests/integration/test_conversion.py",
        "tests/integration/test_failure_paths.py")


def pytest_configure(config: pytest.Config) -> None:
    configure_logging("WARNING")


# The suite runs on several pytest-xdist workers (pyproject.toml: -n, --dist loadgroup). Each group
# runs on one worker, its tests one after another, and the groups start first (they are the
# longest). The reliability suites load the CPU on purpose (hundreds of registrations, faults,
# killed or held workers): the fault run, the kill and restart runs, and the rest
# make three groups, so that no two of one kind share the CPU. The operator's demo prefers fixed
# ports (7233, 8233, 8080): its tests must not run side by side. The first matching prefix wins.
SERIAL_GROUPS = {
    "tests/reliability/test_faults.py::test_faulty_twilio": "faults",
    "tests/reliability/test_faults.py::test_worker_killed": "kills",
    "tests/reliability/test_faults.py::test_temporal_server_restart": "kills",
    "tests/reliability/": "reliability",
    "tests/operator/": "operator",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def group(item: pytest.Item) -> str | None:
        return next((g for prefix, g in SERIAL_GROUPS.items() if item.nodeid.startswith(prefix)), None)

    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
        if (name := group(item)) is not None:
            item.add_marker(pytest.mark.xdist_group(name))
    order = list(SERIAL_GROUPS.values())
    items.sort(key=lambda item: order.index(g) if (g := group(item)) is not None else len(order))


def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """On the controller, as each worker reports its tests: with a pytest on which xdist cannot tag
    the grouped tests (9.2, pytest-dev/pytest-xdist#1386) the groups would be spread over the
    workers without a word — the demo's tests then fight over its ports, the soaks over the CPU."""
    if node.config.getvalue("dist") == "loadgroup":
        lost = [i for i in ids if i.startswith(tuple(SERIAL_GROUPS)) and "@" not in i]
        if lost:
            pytest.exit(f"pytest-xdist could not group {len(lost)} tests (e.g. {lost[0]}): this pytest breaks "
                        "--dist loadgroup; install the versions pinned in requirements-dev.lock", returncode=4)


@pytest.fixture(scope="session")
async def temporal_env():
    from local_stack.devserver import start_dev_server

    # In memory: nothing of the session outlives it, and a file costs a third more CPU (the tests
    # of persistence, a restart on the same file and the encrypted database, start their own).
    env = await start_dev_server()
    yield env
    await env.shutdown()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._a2p_exitstatus = int(exitstatus)  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The Temporal SDK's native runtime can crash while the interpreter tears down
    (temporalio/sdk-python#300), which would turn a green run red: once pytest has reported
    everything, leave with its exit status and skip the teardown."""
    status = getattr(config, "_a2p_exitstatus", None)
    if status is not None:
        exit_now(status)
