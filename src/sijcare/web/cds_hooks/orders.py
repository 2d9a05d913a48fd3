"""Which policy options a hook's draft orders ask for: ServiceRequests coded (CPT, HCPCS or
sijcare's own code) as an SI-joint injection, a diagnostic block, an ablation or a fusion."""

from __future__ import annotations

from typing import Any

from sijcare.knowledge.terminology import ordered_options


def ordered(draft_orders: dict[str, Any] | None, selections: list[str] | None) -> list[str]:
    """The options, each once, in the order the orders name them; for order-select only the
    selected orders (`ServiceRequest/<id>`) count."""
    known = ordered_options()
    found: list[str] = []
    for entry in (draft_orders or {}).get("entry") or []:
        order = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(order, dict) or order.get("resourceType") != "ServiceRequest":
            continue
        if selections is not None and f"ServiceRequest/{order.get('id')}" not in selections:
            continue
        for coding in (order.get("code") or {}).get("coding") or []:
            found += known.get((coding.get("system"), str(coding.get("code"))), ())
    return list(dict.fromkeys(found))
