"""The processes a benchmark run starts, and what /proc says about them.

* :func:`cpu_seconds` / :func:`rss_mb` read ``/proc/<pid>/stat`` and ``/proc/<pid>/status`` (no
  psutil): user + system CPU seconds and resident memory, optionally summed over the process's
  descendants.
* :class:`Child` — a subprocess started from the main thread in its own session, with
  ``PR_SET_PDEATHSIG`` so it dies with the benchmark even if the benchmark is killed; ``stop()``
  sends SIGTERM, then SIGKILL.
* :func:`dev_server` — ``temporal server start-dev --headless`` on free ports with our search
  attributes; :func:`worker` — ``python -m worker`` (or the no-op worker) configured by environment.
* :func:`machine` — cores, RAM, CPU model, Python and library versions.
"""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- /proc ---------------------------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    kids = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _cpu(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int | None, with_children: bool = True) -> float:
    if pid is None:
        return 0.0
    return sum(_cpu(p) for p in (tree(pid) if with_children else [pid]))


def rss_mb(pid: int | None, with_children: bool = True) -> float:
    if pid is None:
        return 0.0
    return sum(_status_kb(p, "VmRSS") for p in (tree(pid) if with_children else [pid])) / 1024


def peak_rss_mb(pid: int | None) -> float:
    return _status_kb(pid, "VmHWM") / 1024 if pid else 0.0


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


# ---- children ------------------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child, before exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class Child:
    """One subprocess of the benchmark, its output in a temp file (shown if it dies early)."""

    live: list["Child"] = []

    def __init__(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"a2p-bench-{name}-", suffix=".log", delete=False)
        # Started from the main thread only: PR_SET_PDEATHSIG fires when the parent *thread* exits.
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        Child.live.append(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 15.0) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self in Child.live:
            Child.live.remove(self)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)

    @classmethod
    def stop_all(cls) -> None:
        for child in reversed(list(cls.live)):
            try:
                child.stop(timeout=10)
            except Exception:  # noqa: BLE001 - stopping the rest matters more
                pass


def dev_server(port: int, http_port: int, metrics_port: int, db_file: str | None,
               dynamic_config: list[str] | None = None, extra_args: list[str] | None = None) -> Child:
    from a2p import search_attributes as sa
    from local_stack.devserver import temporal_cli_path

    cmd = [temporal_cli_path(), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
           "--port", str(port), "--http-port", str(http_port), "--metrics-port", str(metrics_port),
           "--log-level", "error", *sa.dev_server_args()]
    if db_file:
        cmd += ["--db-filename", db_file]
    for value in dynamic_config or []:
        cmd += ["--dynamic-config-value", value]
    return Child("temporal", cmd + list(extra_args or []))


def python_module(name: str, module: str, env: dict[str, str], args: list[str] | None = None) -> Child:
    env = dict(env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return Child(name, [sys.executable, "-m", module, *(args or [])], env)


# ---- the machine ---------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = _meminfo("MemTotal")

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "?"

    try:
        from local_stack.devserver import temporal_cli_path

        cli = subprocess.run([temporal_cli_path(), "--version"], capture_output=True, text=True, timeout=20)
        temporal = cli.stdout.strip().removeprefix("temporal version ")
    except Exception:  # noqa: BLE001 - only informative
        temporal = "?"
    return {
        "cpu": f"{os.cpu_count()} cores" + (f" ({model})" if model else ""),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "temporalio": version("temporalio"),
        "temporal CLI": temporal,
        "twilio": version("twilio"),
    }


def _meminfo(key: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
