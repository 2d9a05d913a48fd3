"""Who is asking: the signed-in user as an `Actor`, read from the database at most every
few seconds per user.

Most requests then need no further query to know who is asking. A role or membership change
takes effect within `ttl_seconds`; signing out, a password change and a disabled account take
effect at once, since the session middleware checks them in the database before this cache
is asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from sijcare.store import User
from sijcare.store.second_factors import enrolled, second_factor_required
from sijcare.web.auth.access import Actor, Role
from sijcare.web.auth.sessions import fingerprint

Key = tuple[int, str | None]  # user id, fingerprint of the password hash signed in with


class ActorCache:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float]):
        self.ttl, self.clock = ttl_seconds, clock
        self._entries: dict[Key, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def get(self, key: Key) -> Actor | None:
        with self._lock:
            entry = self._entries.get(key)
        return entry[1] if entry and entry[0] > self.clock() else None

    def forget(self, user_id: int) -> None:
        """An admin changed the account (deactivated, reset): ask the database again now."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == user_id]:
                del self._entries[key]

    def put(self, key: Key, actor: Actor) -> None:
        now = self.clock()
        with self._lock:
            for stale in [k for k, (until, _) in self._entries.items() if until <= now]:
                del self._entries[stale]
            self._entries[key] = (now + self.ttl, actor)


def actor_of(user: User, must_enrol_second_factor: bool = False) -> Actor:
    """The user as the web layer sees them: role, clinics and what they must do first."""
    return Actor(user.id, user.username, Role(user.role),
                 frozenset(m.clinic_id for m in user.memberships), user.must_change_password,
                 must_enrol_second_factor, user.approval_pending)


def load_actor(sessions: sessionmaker[Session], key: Key) -> Actor | None:
    """The actor for a session's user, or None if the sign-in is no longer valid."""
    user_id, password_fingerprint = key
    with sessions() as db, db.begin():
        user = db.get(User, user_id)
        if (user is None or not user.active
                or fingerprint(user.password_hash) != password_fingerprint):
            return None
        return actor_of(user, second_factor_required(db, user) and not enrolled(db, user.id))
