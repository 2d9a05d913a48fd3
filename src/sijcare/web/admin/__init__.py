"""Account pages: the administrator's user list and each user's own password."""
