#!/usr/bin/env python3
"""Set up the project and run it, with nothing but Python 3.11+ and pip.

    python3 dev.py demo [DEMO OPTIONS]   # make .venv, install jaxmlp, run `jaxmlp demo`
    python3 dev.py test [PYTEST ARGS]    # make .venv with test extras; ruff, import-linter,
                                         # mypy, then pytest
    python3 dev.py bench                 # the benchmarks in benchmarks/

The virtual environment lives in .venv; it is (re)installed when pyproject.toml or
constraints.txt change. Versions are pinned by constraints.txt, so every machine tests
the same dependency set. Uses only the standard library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*cmd: str | Path) -> None:
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if code:
        sys.exit(code)


def ensure_venv(extras: str) -> None:
    """Create .venv and install jaxmlp[extras] unless an identical install is there."""
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    stamp = VENV / f".installed-{extras or 'base'}-{digest.hexdigest()[:16]}"
    if stamp.exists():
        return
    if not PY.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    print(f"dev.py: installing jaxmlp{target[1:]} and its dependencies", flush=True)
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "-c", "constraints.txt", "-e", target)  # fmt: skip
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def ensure_browser() -> None:
    """Debian's Chromium for the playground's browser tests, installed when it is missing
    and this machine can (root with apt-get); otherwise those tests say why they skip
    (and fail under CI=true)."""
    if shutil.which("chromium"):
        return
    if shutil.which("apt-get") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print("dev.py: Chromium is missing and cannot be installed here (needs root and "
              "apt-get); the browser tests will be skipped", flush=True)  # fmt: skip
        return
    print("dev.py: installing Debian's chromium for the browser tests", flush=True)
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            subprocess.call(cmd, env=env, timeout=1200)
        except subprocess.TimeoutExpired:
            print(f"dev.py: {' '.join(cmd)} timed out", flush=True)
            return


def main(argv: list[str]) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 -- dev.py must explain itself on old Pythons
        sys.exit(f"dev.py: jaxmlp needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    task, args = (argv[0], argv[1:]) if argv else ("", [])
    if task == "demo":
        ensure_venv("")
        run(BIN / "jaxmlp", "demo", *args)
    elif task == "test":
        ensure_venv("test")
        ensure_browser()
        run(BIN / "ruff", "check", "src", "tests", "benchmarks", "examples", "dev.py")
        run(BIN / "ruff", "format", "--check", "src", "tests", "benchmarks", "examples", "dev.py")
        run(BIN / "lint-imports")  # the layers (pyproject.toml [tool.importlinter])
        run(BIN / "mypy")  # src/, as configured in pyproject.toml [tool.mypy]
        run(PY, "-m", "pytest", "-n", "2", *args)
    elif task == "bench":
        ensure_venv("test")
        run(PY, "benchmarks/bench_tutorial.py", *args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
