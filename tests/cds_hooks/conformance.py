"""The checks CHECKS.md draws from Inferno and HL7's invariants, as assertions on JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

INDICATORS = {"info", "warning", "critical"}


def no_empty_values(value: Any, where: str = "$") -> None:
    """A4 (req 3): no null, "", [] or {} anywhere (a response's empty `cards` excepted)."""
    assert value is not None and value != "" and value != [] and value != {}, where
    if isinstance(value, dict):
        for key, item in value.items():
            if not (where == "$" and key == "cards" and item == []):
                no_empty_values(item, f"{where}.{key}")
    elif isinstance(value, list):
        for number, item in enumerate(value):
            no_empty_values(item, f"{where}[{number}]")


def check_card(card: dict[str, Any]) -> None:
    """C6-C11 on one card."""
    assert isinstance(card["summary"], str) and len(card["summary"]) < 140
    assert card["indicator"] in INDICATORS
    assert isinstance(card["source"]["label"], str) and card["source"]["label"]
    for key, kind in (("uuid", str), ("detail", str), ("suggestions", list),
                      ("overrideReasons", list), ("links", list)):
        assert key not in card or isinstance(card[key], kind), key
    if "suggestions" in card:
        assert card["selectionBehavior"] in ("at-most-one", "any")
        if card["selectionBehavior"] == "at-most-one":
            assert sum(bool(s.get("isRecommended")) for s in card["suggestions"]) <= 1
        for suggestion in card["suggestions"]:
            assert suggestion["label"]
            assert "actions" not in suggestion or all(a["description"]
                                                      for a in suggestion["actions"])
    for reason in card.get("overrideReasons", []):
        assert reason["code"] and reason["system"] and reason["display"]
    for link in card.get("links", []):
        assert link["label"] and link["type"] in ("absolute", "smart")
        assert urlparse(link["url"]).scheme in ("http", "https") and urlparse(link["url"]).netloc
        assert "appContext" not in link or link["type"] == "smart"


def check_response(body: dict[str, Any]) -> list[dict[str, Any]]:
    """C5: a `cards` array, each card conforming, and no empty values anywhere."""
    assert isinstance(body["cards"], list)
    no_empty_values(body)
    for card in body["cards"]:
        check_card(card)
    return body["cards"]
