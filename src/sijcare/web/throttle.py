"""Sign-in rate limiting: too many failures for one username from one address, or for one
username from anywhere, and it must wait.

An attempt is counted when it starts (`attempt`), before the slow password check, and taken
back when it succeeds; so concurrent guesses cannot all pass the check before any is counted.
The per-username limit ignores the address, so rotating addresses does not buy more guesses.
Kept in process memory: one server process per clinic database is the supported layout;
the audit log keeps the durable record of every failure.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable

Key = tuple[str, str]  # (username, address)


class LoginThrottle:
    def __init__(self, allowed: int, window_seconds: int, clock: Callable[[], float],
                 allowed_per_username: int = 20):
        self.allowed, self.window, self.clock = allowed, window_seconds, clock
        self.allowed_per_username = allowed_per_username
        # keys are (username, address) pairs and bare usernames; only ones with recent failures
        self._failures: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    @staticmethod
    def key(username: str, address: str) -> Key:
        return username.strip().lower(), address

    def _sweep(self, now: float) -> None:
        """Forget every key whose failures have all left the window (at most once a minute)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60
        cutoff = now - self.window
        for stale in [k for k, times in self._failures.items() if times[-1] <= cutoff]:
            del self._failures[stale]

    def _wait(self, key: Hashable, allowed: int, now: float) -> int | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        if len(failures) < allowed:
            return None
        return max(1, int(failures[0] + self.window - now) + 1)

    def attempt(self, key: Key) -> int | None:
        """Seconds to wait if this attempt is refused (not counted), else None: the attempt is
        then counted as a failure until `succeeded` takes it back."""
        with self._lock:
            now = self.clock()
            self._sweep(now)
            waits = [w for w in (self._wait(key, self.allowed, now),
                                 self._wait(key[0], self.allowed_per_username, now))
                     if w is not None]
            if waits:
                return max(waits)
            for counted in (key, key[0]):
                self._failures.setdefault(counted, deque()).append(now)
            return None

    def succeeded(self, key: Key) -> None:
        """Forget the failures from this address; take this attempt back from the username's."""
        with self._lock:
            self._failures.pop(key, None)
            failures = self._failures.get(key[0])
            if failures:
                failures.pop()
                if not failures:
                    del self._failures[key[0]]

    def tracked(self) -> int:
        """How many keys are held (for tests of memory growth)."""
        with self._lock:
            return len(self._failures)
