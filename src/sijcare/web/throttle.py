"""Sign-in rate limiting: too many failures for one username from one address, or for one
username from anywhere, and it must wait.

An attempt is counted when it starts (`attempt`, committed at once), before the slow
password check, and taken back when it succeeds; so concurrent guesses cannot all pass the
check before any is counted. The per-username limit ignores the address, so rotating
addresses does not buy more guesses. The failures live in the database (`sign_in_failures`),
so a lock holds across restarts and across every server process on the database; attempts
for one username are serialised by SQLite's write lock, or on PostgreSQL by a transaction
advisory lock on the username.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.orm import Session

from sijcare.store.models import SignInFailure

Key = tuple[str, str]  # (username, address)
SWEEP_EVERY_SECONDS = 60


class LoginThrottle:
    def __init__(self, allowed: int, window_seconds: int, clock: Callable[[], float],
                 allowed_per_username: int = 20):
        self.allowed, self.window, self.clock = allowed, window_seconds, clock
        self.allowed_per_username = allowed_per_username
        self._next_sweep = 0.0

    @staticmethod
    def key(username: str, address: str) -> Key:
        return username.strip().lower()[:200], address[:100]

    def _sweep(self, db: Session, now: float) -> None:
        """Forget failures that have left the window (at most once a minute per process)."""
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            db.execute(delete(SignInFailure).where(SignInFailure.at <= now - self.window))

    def _wait(self, db: Session, allowed: int, now: float, *where: object) -> int | None:
        oldest, count = db.execute(
            select(func.min(SignInFailure.at), func.count())
            .where(SignInFailure.at > now - self.window, *where)).one()
        if count < allowed:
            return None
        return max(1, int(oldest + self.window - now) + 1)

    def attempt(self, db: Session, key: Key) -> int | None:
        """Seconds to wait if this attempt is refused (not counted), else None: the attempt is
        then counted as a failure until `succeeded` takes it back. Commits `db`, so the count
        is seen by every other attempt before this one's password is checked."""
        username, address = key
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                       {"name": "sijcare-sign-in:" + username})
        now = self.clock()
        self._sweep(db, now)
        waits = [w for w in (
            self._wait(db, self.allowed, now, SignInFailure.username == username,
                       SignInFailure.address == address),
            self._wait(db, self.allowed_per_username, now, SignInFailure.username == username))
            if w is not None]
        if not waits:
            db.add(SignInFailure(username=username, address=address, at=now))
        db.commit()
        return max(waits) if waits else None

    def succeeded(self, db: Session, key: Key) -> None:
        """Forget the failures from this address, this attempt included (in `db`'s
        transaction, with the sign-in itself)."""
        username, address = key
        db.execute(delete(SignInFailure).where(SignInFailure.username == username,
                                               SignInFailure.address == address))

    def tracked(self, db: Session | Connection) -> int:
        """How many failures are held (for tests of growth)."""
        return db.scalar(select(func.count()).select_from(SignInFailure)) or 0
