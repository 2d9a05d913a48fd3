"""The policy query parameter: any profile in the knowledge base, else a 422."""

from __future__ import annotations

from sijcare.knowledge import load_knowledge
from sijcare.web.api.problems import unprocessable


def checked_policy(policy: str) -> str:
    known = load_knowledge().policies
    if policy not in known:
        raise unprocessable([("policy", f"not a known policy; one of: "
                                        f"{', '.join(sorted(known))}")], "query")
    return policy
