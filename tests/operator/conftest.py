"""The demo as an operator meets it: `a2p demo` in a subprocess (its own session, as a terminal's
foreground job), its printed lines read as they come, and every process it started tracked so
that a test can tell none is left behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.codec import new_key_spec
from tests.factories import eventually_sync

REPO = Path(__file__).resolve().parents[2]
A2P = str(Path(sys.executable).parent / "a2p")
STOP_BOUND = 10.0  # what the README promises for Ctrl-C / SIGTERM


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Demo:
    process: subprocess.Popen
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        def printed() -> re.Match | None:
            m = re.search(pattern, self.output())
            if m is None and self.process.poll() is not None:
                time.sleep(0.2)  # the reader's last lines
                m = re.search(pattern, self.output())
                assert m, f"the demo exited ({self.process.returncode}) before {pattern!r}:\n{self.output()[-3000:]}"
            return m

        try:
            return eventually_sync(printed, timeout, f"the demo printing {pattern!r}")
        except AssertionError as err:
            if "timed out" not in str(err):
                raise
            raise AssertionError(f"no {pattern!r} within {timeout} s:\n{self.output()[-3000:]}") from None

    def stop(self, sig: int, *, group: bool) -> tuple[int, float, set[int]]:
        """Signal the demo (``group``: its whole process group, as a terminal's Ctrl-C does); the
        exit status, the seconds it took, and which of its processes are still alive then."""
        started = descendants(self.process.pid)
        t0 = time.monotonic()
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(STOP_BOUND + 5)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - t0
        time.sleep(0.3)
        left = {p for p in started if alive(p)}
        for p in left:  # never leave them to the next test
            os.kill(p, signal.SIGKILL)
        return code, took, left

    def value(self, pattern: str) -> str:
        return self.wait_for(pattern, 1).group(1)


def hold(port: int) -> socket.socket:
    """Take ``port`` on loopback, as another program would (already taken: the same for the demo);
    close the socket to let it go."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except OSError:
        pass
    return sock


def start_demo(tmp_path: Path, *args: str, keys: str | None = None, dev_py: bool = False) -> Demo:
    """``dev_py``: as the README says, `python3 dev.py demo` (this venv, its state in ``tmp_path``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "TWILIO_", "A2P_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["A2P_DEMO_DIR"] = str(tmp_path / ".a2p")
    if keys:
        env["A2P_PAYLOAD_KEYS"] = keys
    command = [A2P, "demo", *args]
    if dev_py:
        env["A2P_VENV"] = sys.prefix
        command = [sys.executable, str(REPO / "dev.py"), "demo", *args]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    demo = Demo(process=proc, env=env)

    def read() -> None:
        for line in proc.stdout:
            demo.lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return demo


@pytest.fixture(scope="package")
def kept_up_demo(tmp_path_factory: pytest.TempPathFactory):
    """`a2p demo --keep-up` with payload encryption on, up until the package's tests are done. Its
    codec's default port (8081) is taken while it starts: the Web UI decodes through another."""
    codec_port = hold(8081)
    demo = start_demo(tmp_path_factory.mktemp("demo"), "--keep-up", keys=new_key_spec("demo-key"))
    try:
        demo.wait_for(r"the stack stays up", 240)
        codec_port.close()
        yield demo
    finally:
        codec_port.close()
        if demo.process.poll() is None:
            demo.stop(signal.SIGTERM, group=False)
