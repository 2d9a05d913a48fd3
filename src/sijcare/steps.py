"""The options each stage of the pathway leads to (ENGINE-RULES: the stages name the step;
the options are the procedures that take it). Stages not listed lead to no procedure.
The episode page and the FHIR ServiceRequest both read the next step here."""

from __future__ import annotations

NEXT_OPTIONS: dict[str, tuple[str, ...]] = {
    "diagnostic_block": ("diagnostic_sij_injection",),
    "interventional_treatment": ("therapeutic_sij_injection", "sij_rfa",
                                 "regenerative_injection"),
    "surgical_evaluation": ("mis_sij_fusion",),
}
