"""Sign-in and what follows from it: sessions, CSRF, throttling, passwords, the actor and
what it may see (roles, permissions, clinic scope)."""
