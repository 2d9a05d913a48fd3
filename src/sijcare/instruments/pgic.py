"""Patient Global Impression of Change: seven answers, 1 (very much improved) to 7."""

from __future__ import annotations

ANSWERS = {1: "Very much improved", 2: "Much improved", 3: "Minimally improved",
           4: "No change", 5: "Minimally worse", 6: "Much worse", 7: "Very much worse"}
