"""The codes sijcare exchanges FHIR with (`fhir_codes.yaml`), validated once at load.

Both directions read it: the export turns a vocabulary code (`latex`, `steroid_injection`)
into its standard codings, and an import turns a hospital's coding back into the vocabulary
code (`concept_of`) or recognises an anticoagulant (`anticoagulant_class`). Codings come out
as plain JSON-ready dicts, since the export builds millions of them.
"""

from __future__ import annotations

from functools import cache, cached_property
from importlib import resources
from typing import Any

import yaml
from pydantic import Field

from sijcare.knowledge import Item, KnowledgeError, load_knowledge

Coding = dict[str, str]
# Code systems whose codes must also be in codes.yaml (the packet's billing codes).
BILLING = ("cpt", "hcpcs", "icd10cm")


class Code(Item):
    system: str  # a name in `systems`
    code: str
    display: str
    sources: list[str] = Field(min_length=1)


class Ingredient(Item):
    code: str
    display: str


class Terminology(Item):
    canonical: str
    systems: dict[str, str]
    concepts: dict[str, list[Code]]
    categories: dict[str, Code]
    anticoagulants: dict[str, list[Ingredient]]
    anticoagulant_sources: list[str] = Field(min_length=1)
    override_reasons: list[Code] = Field(min_length=1)

    @property
    def codesystem(self) -> str:
        """The canonical URL of sijcare's own CodeSystem (every vocabulary code)."""
        return f"{self.canonical}/CodeSystem/sijcare"

    def url(self, system: str) -> str:
        return self.systems[system]

    def codings(self, concept: str) -> list[Coding]:
        """The standard codings meaning the same as the vocabulary code (often none)."""
        return self._codings.get(concept, [])

    def override_reasons_codings(self) -> list[Coding]:
        """A CDS Hooks safety stop's overrideReasons (each with its display)."""
        return [self._coding(c) for c in self.override_reasons]

    def category(self, name: str) -> Coding:
        return self._categories[name]

    def concept_of(self, system: str, code: str) -> str | None:
        """The vocabulary code a standard coding stands for (sijcare's own codes too)."""
        if system == self.codesystem:
            return code
        return self._concepts.get((system, code))

    def anticoagulant_class(self, system: str, code: str) -> str | None:
        """The anticoagulant class of an RxNorm ingredient, or None if it is none."""
        return self._anticoagulants.get((system, code))

    @cached_property
    def _codings(self) -> dict[str, list[Coding]]:
        return {concept: [self._coding(c) for c in codes]
                for concept, codes in self.concepts.items()}

    @cached_property
    def _categories(self) -> dict[str, Coding]:
        return {name: self._coding(c) for name, c in self.categories.items()}

    @cached_property
    def _concepts(self) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for concept, codes in self.concepts.items():
            for c in codes:  # the first concept naming a code keeps it (rfa: conventional)
                found.setdefault((self.url(c.system), c.code), concept)
        return found

    @cached_property
    def _anticoagulants(self) -> dict[tuple[str, str], str]:
        rxnorm = self.url("rxnorm")
        return {(rxnorm, i.code): kind for kind, items in self.anticoagulants.items()
                for i in items}

    def _coding(self, code: Code) -> Coding:
        return {"system": self.url(code.system), "code": code.code, "display": code.display}


def _read(name: str) -> Any:
    return yaml.safe_load(resources.files("sijcare.knowledge").joinpath(name)
                          .read_text(encoding="utf-8"))


def problems(terminology: Terminology, billed: set[tuple[str, str]]) -> list[str]:
    """Unknown systems, dangling sources, and billing codes that codes.yaml does not name."""
    sources = load_knowledge().sources
    found: list[str] = []
    coded = [(f"concepts.{name}", c) for name, codes in terminology.concepts.items()
             for c in codes] + [(f"categories.{name}", c)
                                for name, c in terminology.categories.items()]
    coded += [(f"override_reasons[{i}]", c) for i, c in enumerate(terminology.override_reasons)]
    for where, code in coded:
        if code.system not in terminology.systems:
            found.append(f"{where}: unknown system '{code.system}'")
        found += [f"{where}: unknown source '{s}'" for s in code.sources if s not in sources]
        if code.system in BILLING and (code.system, code.code) not in billed:
            found.append(f"{where}: {code.code} is not in codes.yaml")
    found += [f"anticoagulant_sources: unknown source '{s}'"
              for s in terminology.anticoagulant_sources if s not in sources]
    return found


def _billed() -> set[tuple[str, str]]:
    """(system name, code) of every code codes.yaml names."""
    names = {"CPT": "cpt", "HCPCS": "hcpcs", "ICD-10-CM": "icd10cm"}
    codes = _read("codes.yaml")
    entries = [*codes["diagnoses"], *(c for o in codes["options"] for c in o["codes"])]
    return {(names[c["system"]], str(c["code"])) for c in entries}


@cache
def load_terminology() -> Terminology:
    """Load and cross-check `fhir_codes.yaml` (once per process); KnowledgeError if wrong."""
    terminology = Terminology.model_validate(_read("fhir_codes.yaml"))
    if found := problems(terminology, _billed()):
        raise KnowledgeError("fhir_codes.yaml: " + "; ".join(found))
    return terminology


@cache
def ordered_options() -> dict[tuple[str, str], tuple[str, ...]]:
    """(system URL, code) -> the policy options an order so coded asks for: the billing
    codes codes.yaml lists per option, and sijcare's own code of each option's treatments.
    One code may order more than one option (27096 is a diagnostic or a therapeutic
    injection)."""
    terms = load_terminology()
    names = {"CPT": "cpt", "HCPCS": "hcpcs"}
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for option in _read("codes.yaml")["options"]:
        keys = [(terms.url(names[c["system"]]), str(c["code"])) for c in option["codes"]
                if c["system"] in names]
        keys += [(terms.codesystem, t) for t in [option["option"], *option["treatments"]]]
        for key in keys:
            found[key] = (*found.get(key, ()), option["option"])
    return found
