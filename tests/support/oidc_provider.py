"""A real OpenID provider for the tests: `oidc-provider` (npm) under Node.js, on loopback.

`tests/support/oidc/` holds the provider script with its package.json and lock file.
The packages are installed with `npm ci` into a cache directory named by the lock
file's hash (once per machine and lock); a missing Node.js or npm skips the tests
that need it (in CI a skip fails the run, so there it must install and start).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).with_name("oidc")
FILES = ("package.json", "package-lock.json", "provider.mjs")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()[:16]
    return base / "soesmart" / f"oidc-provider-{digest}"


def installed() -> Path:
    """The directory with the provider script and its node_modules, installed if missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed for the OpenID provider (apt-get install nodejs npm)")
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs installing at once
        for name in FILES:
            shutil.copyfile(HERE / name, target / name)
        if not (target / "node_modules" / "oidc-provider").is_dir():
            result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                                    cwd=target, capture_output=True, text=True, timeout=300)
            if result.returncode != 0:
                raise RuntimeError(f"npm ci failed:\n{result.stdout}\n{result.stderr}")
    return target


class OidcProvider:
    """One provider process; `issuer` once started."""

    def __init__(self, port: int, clients: list[dict[str, Any]], accounts: dict[str, Any],
                 work_dir: Path) -> None:
        self.port = port
        self.config = {"port": port, "clients": clients, "accounts": accounts}
        self.work_dir = work_dir
        self.proc: subprocess.Popen[str] | None = None
        self.issuer = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 30) -> OidcProvider:
        directory = installed()
        config = self.work_dir / "oidc-provider.json"
        config.write_text(json.dumps(self.config), encoding="utf-8")
        log = open(self.work_dir / "oidc-provider.log", "w")  # noqa: SIM115 - kept for the process
        self.proc = subprocess.Popen([shutil.which("node") or "node", "provider.mjs", str(config)],
                                     cwd=directory, stdout=log, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the OpenID provider exited:\n" + self.log())
            if f"listening {self.issuer}" in self.log():
                return self
            time.sleep(0.1)
        raise RuntimeError("the OpenID provider did not start:\n" + self.log())

    def log(self) -> str:
        return (self.work_dir / "oidc-provider.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None
