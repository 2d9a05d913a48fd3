"""Sign-in rate limiting: after N failures for one username from one address, wait.

Kept in process memory: one server process per clinic database is the supported layout;
the audit log keeps the durable record of every failure.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable


class LoginThrottle:
    def __init__(self, allowed: int, window_seconds: int, clock: Callable[[], float]):
        self.allowed, self.window, self.clock = allowed, window_seconds, clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    @staticmethod
    def key(username: str, address: str) -> tuple[str, str]:
        return username.strip().lower(), address

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures, cutoff = self._failures[key], self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def retry_after(self, key: tuple[str, str]) -> int | None:
        """Seconds until the next attempt is allowed, or None if it is allowed now."""
        with self._lock:
            failures = self._recent(key)
            if len(failures) < self.allowed:
                return None
            return max(1, int(failures[0] + self.window - self.clock()) + 1)

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._recent(key).append(self.clock())

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)
