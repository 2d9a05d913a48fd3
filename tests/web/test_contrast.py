"""Every text colour of the stylesheet on the background it is used on reaches WCAG AA."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sijcare.web

CSS = (Path(sijcare.web.__file__).parent / "static" / "site.css").read_text()
COLOURS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))
# (text, background) as the stylesheet pairs them.
PAIRS = [("ink", "paper"), ("muted", "paper"), ("accent", "paper"), ("accent-ink", "accent"),
         ("bad", "paper"), ("ink", "wash"), ("paper", "ink"), ("good", "good-bg"),
         ("bad", "bad-bg"), ("maybe", "maybe-bg"), ("none", "none-bg"), ("info", "info-bg"),
         ("accent", "info-bg")]


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_contrast_is_at_least_4_5_to_1(text: str, background: str) -> None:
    assert contrast(COLOURS[text], COLOURS[background]) >= 4.5


def test_focus_is_always_visible() -> None:
    assert ":focus-visible { outline: 3px solid" in CSS
    assert "outline: none" not in CSS.replace("main:focus { outline: none; }", "")
