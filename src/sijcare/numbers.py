"""Exact arithmetic for clinical percentages, so boundaries (75%, 30%) never wobble."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def exact(number: float | Fraction) -> Fraction:
    """The number as written (7.1 stays 71/10), not its binary approximation."""
    return number if isinstance(number, Fraction) else Fraction(Decimal(str(number)))


def round_half_up(value: float | Fraction, places: int) -> float:
    """Round the way clinicians do by hand (0.05 -> 0.1), independent of float quirks."""
    value = exact(value)
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    return float(decimal.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
