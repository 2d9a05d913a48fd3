"""Golden cards: what the eight demo patients' patient-view and an SI-joint injection's and a
fusion's order-sign answer, with what changes run to run normalised (uuids, dates, which
move with today, and the versions). Regenerate after a deliberate change with
SIJCARE_UPDATE_GOLDEN=1 and read the diff."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tests.cds_hooks.conftest import Hooks
from tests.cds_hooks.test_hooks import SIGN, VIEW, _order

GOLDEN = Path(__file__).with_name("golden") / "demo-cards.json"
VARYING = [(re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
            "<uuid>"), (re.compile(r"\d{4}-\d\d-\d\d"), "<date>"),
           (re.compile(r"(knowledge|sijcare) [0-9][0-9A-Za-z.+-]*"), r"\1 <version>")]


def normalised(text: str) -> str:
    for pattern, replacement in VARYING:
        text = pattern.sub(replacement, text)
    return text


def test_the_demo_patients_cards_are_the_golden_ones(hooks: Hooks) -> None:
    found = {}
    for demo, patient_id in sorted(hooks.patients.items()):
        found[f"{demo} patient-view"] = hooks.post(
            VIEW, hooks.request("patient-view", patient_id)).json()
        for code in ("27096", "27279"):
            found[f"{demo} order-sign {code}"] = hooks.post(SIGN, hooks.request(
                "order-sign", patient_id, draftOrders=_order(code))).json()
    text = normalised(json.dumps(found, indent=1, sort_keys=True, ensure_ascii=False)) + "\n"
    if os.environ.get("SIJCARE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
