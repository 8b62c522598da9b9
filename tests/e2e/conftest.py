"""End-to-end helpers: real processes, driven over HTTP on loopback."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port  # noqa: F401 - the e2e tests take it from here

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent



def base_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update({"PATH": f"{BIN}:{env.get('PATH', '')}", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_http(url: str, timeout: float = 60, process: subprocess.Popen | None = None) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process exited with {process.returncode} before {url} answered")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except requests.RequestException:  # not up yet
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within {timeout}s")


def stop_group(process: subprocess.Popen, timeout: float = 20) -> int:
    """SIGTERM the process group, as an operator's Ctrl-C would; SIGKILL if it hangs."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail("the processes did not stop on SIGTERM")
    return process.returncode


def find_key(text: str) -> str | None:
    match = re.search(r"\bdoa_[0-9a-f-]{36}_[A-Za-z0-9_-]+", text)
    return match.group(0) if match else None


class Http:
    """A user of the API over real HTTP."""

    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.base + path, headers=headers, timeout=10, **kwargs)

    def token(self, key: str) -> str:
        response = self.call("POST", "/api/registry/tokens", token=key)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]
