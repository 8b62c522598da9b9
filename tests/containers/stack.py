"""docker-compose.yml run by podman-compose as a project of its own: built, started, waited on
until every container is healthy, driven (exec, kill, start) and torn down with its volumes.

Debian's podman-compose (1.0.3, bookworm) starts the containers in dependency order but does
not wait for `condition: service_healthy`, and podman runs health checks on a systemd timer,
which this machine does not have: so the checks are run here (`podman healthcheck run`), and
a service that started before its database was ready exits and is started again by its
`restart: unless-stopped`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/dayofaction:latest"
# Debian's podman-compose with the fix it needs (see the script).
COMPOSE = str(ROOT / "scripts" / "containers" / "podman-compose")
# Run once and exit: creates the media bucket.
ONE_SHOT = {"minio-setup"}


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        pytest.fail(f"podman {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}")
    return done


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("the container test runs as root (it installs podman; rootful podman: the stand-in images "
                    "and the bridge)")
    if shutil.which("apt-get") is None and shutil.which("podman") is None:
        pytest.fail("podman is needed (on Debian, scripts/containers/prepare.sh installs it)")


class Stack:
    def __init__(self, project: str, env: dict[str, str]):
        self.project = project
        self.network = f"{project}_default"
        self.env = {**os.environ, **env}
        self.services = self._services()

    def _services(self) -> list[str]:
        import yaml

        return list(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        done = subprocess.run([COMPOSE, "-p", self.project, "-f", str(ROOT / "docker-compose.yml"), *args],
                              cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            pytest.fail(f"podman-compose {' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n"
                        f"{done.stderr[-3000:]}")
        return done

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def state(self, service: str) -> dict:
        found = podman("inspect", self.container(service), check=False)
        return json.loads(found.stdout)[0]["State"] if found.returncode == 0 else {}

    def healthy(self, service: str) -> bool:
        """Running and its health check passes now (a one-shot: exited with 0)."""
        state = self.state(service)
        if service in ONE_SHOT:
            return state.get("Status") == "exited" and state.get("ExitCode") == 0
        if state.get("Status") != "running":
            return False
        return podman("healthcheck", "run", self.container(service), check=False, timeout=30).returncode == 0

    def wait_healthy(self, services: list[str] | None = None, timeout: float = 600) -> None:
        waiting = list(services or self.services)
        deadline = time.monotonic() + timeout
        while waiting:
            waiting = [s for s in waiting if not self.healthy(s)]
            if waiting and time.monotonic() > deadline:
                states = {s: self.state(s).get("Status") for s in waiting}
                pytest.fail(f"not healthy after {timeout}s: {states}\n{self.logs(*waiting)}")
            if waiting:
                time.sleep(2)

    def exec(self, service: str, *command: str) -> subprocess.CompletedProcess:
        return podman("exec", self.container(service), *command, timeout=120)

    def kill(self, service: str) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        podman("kill", "--signal", "KILL", self.container(service))

    def start(self, service: str) -> None:
        """Started again, unless its restart policy already did."""
        if self.state(service).get("Status") != "running":
            podman("start", self.container(service))

    def gateway(self) -> tuple[str, str]:
        """The project network's host-side address and subnet, made now if it does not exist
        (podman-compose then uses it)."""
        if podman("network", "exists", self.network, check=False).returncode != 0:
            podman("network", "create", "--label", f"io.podman.compose.project={self.project}", self.network)
        [subnet] = json.loads(podman("network", "inspect", self.network).stdout)[0]["subnets"]
        return subnet["gateway"], subnet["subnet"]

    def logs(self, *services: str, tail: int = 40) -> str:
        out = []
        for service in services or self.services:
            done = podman("logs", "--tail", str(tail), self.container(service), check=False)
            out.append(f"--- {service}\n{done.stdout}{done.stderr}")
        return "\n".join(out)

    def down(self) -> None:
        subprocess.run([COMPOSE, "-p", self.project, "-f", str(ROOT / "docker-compose.yml"), "down", "-v"],
                       cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
        for volume in podman("volume", "ls", "-q", "--filter", f"label=io.podman.compose.project={self.project}",
                             check=False).stdout.split():
            podman("volume", "rm", "-f", volume, check=False)
        podman("network", "rm", "-f", self.network, check=False)
