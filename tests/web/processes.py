"""Real `sijcare serve` processes for tests that need the server exactly as it runs: its own
process (its own GIL), its settings from the environment, on SQLite or PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

SECRET = "a test secret that is long enough for sessions"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "sijcare.cli", *args], env=env, input=stdin,
                   text=True, check=True, capture_output=True, timeout=120)


@contextmanager
def servers(url: str, env: dict[str, str], count: int = 2) -> Iterator[list[str]]:
    """`count` real `sijcare serve` processes on `url`, started side by side."""
    ports = [free_port() for _ in range(count)]
    processes = [subprocess.Popen([sys.executable, "-m", "sijcare.cli", "serve", "--port",
                                   str(port), "--url", url], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 120
        for base, process in zip(bases, processes, strict=True):
            while not answers(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"a server did not start: {process.stderr.read().decode()}")
                time.sleep(0.1)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
            process.stderr.close()


def answers(base: str) -> bool:
    try:
        return httpx.get(base + "/api/v1/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
