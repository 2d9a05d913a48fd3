"""Sign-in rate limiting: too many failures for one username from one address, or for one
username from anywhere, and it must wait.

Only failures are counted: one row each (`failed`, a single INSERT, committed with the
attempt's audit entry), never an attempt in progress, so a sign-in that succeeds or dies
midway (a crash, a lost connection) leaves nothing behind, and correct sign-ins at once never
count against each other. The count is looked at twice: before the (slow) password check, so a
locked name costs no check, and again after a right password, so guesses sent at once gain
nothing: one found right after the others have filled the count is refused as well. The
per-username limit ignores the address, so rotating addresses does not buy more guesses. The
failures live in the database (`sign_in_failures`), so a lock holds across restarts and across
every server process on the database.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, delete, func, select
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

    def wait(self, db: Session, key: Key) -> int | None:
        """Seconds to wait if `key`'s username is locked (from its address, or from anywhere),
        else None. Only reads."""
        username, address = key
        now = self.clock()
        waits = [w for w in (
            self._wait(db, self.allowed, now, SignInFailure.username == username,
                       SignInFailure.address == address),
            self._wait(db, self.allowed_per_username, now, SignInFailure.username == username))
            if w is not None]
        return max(waits) if waits else None

    def failed(self, db: Session, key: Key) -> None:
        """Count one failure, in `db`'s transaction (the caller commits it at once, with the
        attempt's audit entry: other attempts look at the count)."""
        username, address = key
        now = self.clock()
        self._sweep(db, now)
        db.add(SignInFailure(username=username, address=address, at=now))
        db.flush()

    def succeeded(self, db: Session, key: Key) -> None:
        """Forget the failures from this address (in `db`'s transaction, with the sign-in
        itself)."""
        username, address = key
        db.execute(delete(SignInFailure).where(SignInFailure.username == username,
                                               SignInFailure.address == address))

    def locked(self, db: Session) -> dict[str, int]:
        """Usernames locked now (from some address, or from anywhere): seconds left, the
        longest wait of each. For the admin's list of accounts."""
        now = self.clock()
        found: dict[str, int] = {}
        for per_address in (True, False):
            columns = (SignInFailure.username, SignInFailure.address) if per_address else (
                SignInFailure.username,)
            allowed = self.allowed if per_address else self.allowed_per_username
            rows = db.execute(select(*columns, func.min(SignInFailure.at), func.count())
                              .where(SignInFailure.at > now - self.window)
                              .group_by(*columns).having(func.count() >= allowed))
            for row in rows:
                wait = max(1, int(row[-2] + self.window - now) + 1)
                found[row[0]] = max(wait, found.get(row[0], 0))
        return found

    def unlock(self, db: Session, username: str) -> int:
        """Forget every failure of `username` (an admin unlocks it); how many there were."""
        return db.execute(delete(SignInFailure).where(
            SignInFailure.username == username)).rowcount

    def tracked(self, db: Session | Connection) -> int:
        """How many failures are held (for tests of growth)."""
        return db.scalar(select(func.count()).select_from(SignInFailure)) or 0
