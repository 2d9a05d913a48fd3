"""Which policy options a hook's draft orders ask for: ServiceRequests coded (CPT, HCPCS or
sijcare's own code) as an SI-joint injection, a diagnostic block, an ablation or a fusion."""

from __future__ import annotations

from typing import Any

from sijcare.interop.fhir.base import objects
from sijcare.knowledge.terminology import ordered_options


def ordered(draft_orders: dict[str, Any] | None,
            selections: list[str] | None) -> dict[str, list[str]]:
    """The options, in the order the orders name them, each with the orders asking for it
    (`ServiceRequest/<id>`); for order-select only the selected orders count."""
    known = ordered_options()
    found: dict[str, list[str]] = {}
    for entry in objects((draft_orders or {}).get("entry")):
        order = entry.get("resource")
        if not isinstance(order, dict) or order.get("resourceType") != "ServiceRequest":
            continue
        if selections is not None and f"ServiceRequest/{order.get('id')}" not in selections:
            continue
        reference = f"ServiceRequest/{order.get('id')}"
        code = order.get("code")
        for coding in objects(code.get("coding") if isinstance(code, dict) else None):
            system = coding.get("system")
            for option in known.get((system, str(coding.get("code"))), ()) if isinstance(
                    system, str) else ():
                orders = found.setdefault(option, [])
                if reference not in orders and order.get("id"):
                    orders.append(reference)
    return found

