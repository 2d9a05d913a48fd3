"""Layer 4: the demo export as a golden file, with what changes run to run normalised
(signing instants, the sealed JSON and PDF, their hashes). Regenerate after a deliberate
change with SIJCARE_UPDATE_GOLDEN=1 and read the diff."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

GOLDEN = Path(__file__).with_name("golden") / "demo-export.ndjson"
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
VOLATILE = {"data", "hash", "size"}  # an attachment's bytes: the seal covers them


def normalised(value: object, key: str = "") -> object:
    if isinstance(value, dict):
        return {k: "<varies>" if k in VOLATILE else normalised(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str) and (INSTANT.match(value) or SHA256.match(value)):
        return "<varies>"
    if key == "version" and isinstance(value, str):
        return "<version>"
    return value


def test_the_demo_exports_as_the_golden_file(resources: list[dict]) -> None:
    lines = [json.dumps(normalised(r), sort_keys=True) for r in resources
             if r["resourceType"] != "CodeSystem"]  # the CodeSystem is labels.yaml, tested there
    text = "\n".join(lines) + "\n"
    if os.environ.get("SIJCARE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
