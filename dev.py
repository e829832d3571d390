#!/usr/bin/env python3
"""Bootstrap for a fresh clone with only Python: makes `.venv`, installs the project with its dev
extra at the versions pinned in requirements-dev.lock (again only when pyproject.toml or the lock
changed), then runs what you asked for.

  python3 dev.py demo [--keep-up]   the main job: local stack + a sample registration
  python3 dev.py test [PYTEST ARGS] the whole test suite
  python3 dev.py a2p ARGS...        any `a2p` command inside the venv
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("A2P_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".a2p-installed"
LOCK = ROOT / "requirements-dev.lock"


def digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes()).hexdigest()


def ensure_venv() -> None:
    wanted = digest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing a2p-registrar and its dev tools (first run only) ...", flush=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-c", str(LOCK), "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


# The project's own packages (pip byte-compiled everything it installed, but an editable install
# leaves these as sources).
PACKAGES = ("a2p", "infra", "activities", "workflows", "worker", "starter", "local_stack", "sandbox")


def compile_sources() -> None:
    """Byte-compile the project's own modules where they are stale. Python reads a .pyc even where
    PYTHONDONTWRITEBYTECODE keeps it from writing one; without them every process start — and
    Temporal's sandbox, for every workflow run it creates — compiles the sources again (measured:
    a third of the worker's CPU in the fault suite)."""
    subprocess.run([str(BIN / "python"), "-m", "compileall", "-q", "-j", "0", *PACKAGES], check=True, cwd=ROOT)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test", "a2p"):
        print(__doc__)
        return 2
    ensure_venv()
    compile_sources()
    cmd, rest = sys.argv[1], sys.argv[2:]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if cmd == "test":
        argv = [str(BIN / "python"), "-m", "pytest", *rest]
    elif cmd == "demo":
        argv = [str(BIN / "a2p"), "demo", *rest]
    else:
        argv = [str(BIN / "a2p"), *rest]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env)
    # A Ctrl-C at the terminal reaches the command itself (same process group), which stops in its
    # own order (the demo: every process it started); this one waits for it rather than killing it
    # mid-stop, and passes SIGTERM on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signal.SIGTERM))
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
