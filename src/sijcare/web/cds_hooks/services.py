"""The services sijcare offers an EHR, as discovery lists them."""

from __future__ import annotations

from sijcare.web.cds_hooks.prefetch import TEMPLATES

SERVICES: dict[str, dict[str, object]] = {
    "sijcare-patient-view": {
        "hook": "patient-view", "title": "SI-joint pathway stage",
        "description": "The patient's SI-joint pathway stage with its reason, follow-up "
                       "questionnaires due or missed, and safety alerts.",
    },
    "sijcare-order-select": {
        "hook": "order-select", "title": "SI-joint procedure eligibility",
        "description": "When an SI-joint injection, diagnostic block, radiofrequency ablation "
                       "or fusion is selected: eligibility under the patient's policy, what to "
                       "document, and safety stops.",
    },
    "sijcare-order-sign": {
        "hook": "order-sign", "title": "SI-joint procedure safety check",
        "description": "Before an SI-joint injection, diagnostic block, radiofrequency "
                       "ablation or fusion is signed: safety stops (overridable with a "
                       "reason), eligibility and what to document.",
    },
}


def discovery() -> dict[str, list[dict[str, object]]]:
    return {"services": [{"id": service_id, **service, "prefetch": dict(TEMPLATES)}
                         for service_id, service in SERVICES.items()]}
