"""A hospital's FHIR resources as the engine's `Case`, without storing anything.

The reverse of the export for what the engine reads: a CDS Hooks call brings a patient's
resources, and the hook assesses them the way the episode page assesses stored records.
Codes are read through `fhir_codes.yaml` (the importer's `vocabulary`), so a resource
sijcare exported comes back as the same fact, and a hospital's standard codes (LOINC pain score, CPT
procedures, RxNorm anticoagulants, SNOMED allergies) mean what they mean in the export.

Unknown is not negative: a fact no resource speaks of stays `None`. Resources entered in
error, refuted, not done or dated after `as_of` are left out. Not carried by FHIR here (they
stay unknown): pregnancy, conservative care, imaging, the anticoagulation plan, and a block
without its pain diary (its before and after pain are what the engine reads).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, get_args

from sijcare.interop.fhir.incoming import vocabulary
from sijcare.knowledge.terminology import load_terminology
from sijcare.model.case import (
    Allergy,
    Block,
    Case,
    DiaryEntry,
    Exam,
    Guidance,
    History,
    Medications,
    Patient,
    Procedure,
    ProcedureKind,
    Prom,
    Provocation,
    RedFlag,
    Side,
)

Resource = dict[str, Any]
VOID = {"entered-in-error", "refuted", "not-done", "cancelled", "stopped", "inactive",
        "resolved", "completed-not-taken"}
TAKING = {"active", "intended", "on-hold", "draft", "completed"}
SEXES = {"female", "male", "other", "unknown"}
INSTRUMENTS = ("odi", "nrs", "pgic")


def _first(concept: dict[str, Any] | None, allowed: Iterable[str]) -> str | None:
    allowed = set(allowed)
    return next((c for c in vocabulary(concept) if c in allowed), None)


def _status(concept: dict[str, Any] | None) -> str | None:
    codes = [c.get("code") for c in (concept or {}).get("coding") or []]
    return codes[0] if codes else None


def _voided(resource: Resource) -> bool:
    statuses = [resource.get("status"), _status(resource.get("verificationStatus")),
                _status(resource.get("clinicalStatus"))]
    return any(s in VOID for s in statuses if s)


def _day(resource: Resource, *keys: str) -> dt.date | None:
    for key in keys:
        value = resource.get(key)
        if isinstance(value, dict):
            value = value.get("start")
        if isinstance(value, str) and len(value) >= 10:
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                return None
    return None


def _value(item: dict[str, Any]) -> float | bool | None:
    for key in ("valueInteger", "valueDecimal", "valueBoolean"):
        if key in item:
            return item[key]
    return (item.get("valueQuantity") or {}).get("value")


class _Reading:
    """The resources sorted by date, read one kind at a time into the Case's parts."""

    def __init__(self, resources: Iterable[Resource], as_of: dt.date):
        self.as_of = as_of
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        for resource in resources:
            if isinstance(resource, dict) and not _voided(resource):
                self.by_type[resource.get("resourceType", "")].append(resource)
        self.observations = self._dated("Observation", "effectiveDateTime", "effectivePeriod",
                                         "issued")

    def _dated(self, kind: str, *keys: str) -> list[tuple[dt.date, Resource]]:
        """The kind's resources dated on or before `as_of`, oldest first (undated ones last:
        they are current lists, such as an allergy list)."""
        found = [(_day(r, *keys) or self.as_of, r) for r in self.by_type[kind]]
        return sorted([(d, r) for d, r in found if d <= self.as_of], key=lambda p: p[0])

    def _observations(self, code: str) -> list[tuple[dt.date, Resource]]:
        return [(d, r) for d, r in self.observations if code in vocabulary(r.get("code"))]

    def patient(self, patient_id: str) -> Patient:
        found = next(iter(self.by_type["Patient"]), {})
        birth = _day(found, "birthDate")
        sex = found.get("gender")
        return Patient(id=patient_id, birth_date=birth, sex=sex if sex in SEXES else None)

    def history(self) -> History | None:
        pain = [(d, r) for d, r in self._observations("nrs") if not r.get("derivedFrom")]
        flags = self.red_flags()
        problem = next((r for r in reversed(self.by_type["Condition"])
                        if "sij_pain" in vocabulary(r.get("code"))), None)
        facts: dict[str, Any] = {}
        if pain and (value := _value(pain[-1][1])) is not None:
            facts["pain_nrs"] = value
        if flags is not None:
            facts["red_flags"] = flags
        if problem:
            facts["pain_onset"] = _day(problem, "onsetDateTime", "onsetPeriod")
            sides = [_first(s, get_args(Side)) for s in problem.get("bodySite") or []]
            facts["side"] = next((s for s in sides if s), None)
        facts = {k: v for k, v in facts.items() if v is not None}
        return History(**facts) if facts else None

    def red_flags(self) -> list[RedFlag] | None:
        """The latest screen's flags, with each red flag on the problem list: a screen
        answered "none" is [], no screen and no such Condition is unknown."""
        flags = get_args(RedFlag)
        screens = self._observations("red_flags")
        listed = [f for r in self.by_type["Condition"] if (f := _first(r.get("code"), flags))]
        if not screens and not listed:
            return None
        found = [_first(c.get("code"), flags) for c in (screens[-1][1].get("component") or [])
                 if c.get("valueBoolean") is True] if screens else []
        return list(dict.fromkeys(f for f in [*found, *listed] if f))

    def exam(self) -> Exam | None:
        tests = Provocation.model_fields
        found: dict[str, str] = {}
        for _, r in self.observations:
            test = _first(r.get("code"), tests)
            result = _first(r.get("valueCodeableConcept"), ("positive", "negative"))
            if test and result:
                found[test] = result
        return Exam(provocation=Provocation(**found)) if found else None

    def _parts_of(self, code: str) -> dict[str, Resource]:
        """Observations of `code` by the Procedure they are part of (`Procedure/<id>`)."""
        return {p.get("reference", ""): r for _, r in self._observations(code)
                for p in r.get("partOf") or []}

    def procedures(self) -> tuple[list[Block] | None, list[Procedure] | None]:
        reliefs, outcomes = self._parts_of("block_relief"), self._parts_of("procedure_outcome")
        terms = load_terminology()
        targets = {(c["system"], c["code"]): t for t in ("lateral_branch", "intra_articular")
                   for c in terms.codings(t)}
        blocks, treatments = [], []
        for day, r in self._dated("Procedure", "performedDateTime", "performedPeriod"):
            codes = vocabulary(r.get("code"))
            side = next((s for b in r.get("bodySite") or [] if (s := _first(b, get_args(Side)))),
                        None)
            guidance = next((_first(e.get("valueCodeableConcept"), get_args(Guidance))
                             for e in r.get("extension") or []
                             if str(e.get("url", "")).endswith("/image-guidance")), None)
            ref = f"Procedure/{r.get('id')}"
            if "block" in codes:
                target = next((targets[(c.get("system"), c.get("code"))]
                               for c in r["code"].get("coding") or []
                               if (c.get("system"), c.get("code")) in targets), None)
                if block := _block(day, side, target, guidance, reliefs.get(ref)):
                    blocks.append(block)
            elif kind := next((c for c in codes if c in get_args(ProcedureKind)), None):
                treatments.append(Procedure(date=day, kind=kind, side=side, guidance=guidance,
                                            **_relief(outcomes.get(ref))))
        has = bool(self.by_type["Procedure"])
        return (blocks if has else None), (treatments if has else None)

    def medications(self) -> Medications | None:
        terms = load_terminology()
        taking: bool | None = None
        for kind in ("MedicationStatement", "MedicationRequest"):
            for r in self.by_type[kind]:
                concept = r.get("medicationCodeableConcept")
                own = "anticoagulant" in vocabulary(concept)
                drug = any(terms.anticoagulant_class(c.get("system", ""), str(c.get("code")))
                           for c in (concept or {}).get("coding") or [])
                if r.get("status") == "not-taken" and own:
                    taking = bool(taking)
                elif (own or drug) and r.get("status") in TAKING:
                    taking = True
        return None if taking is None else Medications(anticoagulant=taking)

    def allergies(self) -> list[Allergy] | None:
        """Any allergy list is a recorded list; only the engine's allergens are kept."""
        listed = self.by_type["AllergyIntolerance"]
        if not listed:
            return None
        found = [_first(r.get("code"), get_args(Allergy)) for r in listed]
        return list(dict.fromkeys(a for a in found if a))

    def proms(self) -> list[Prom] | None:
        found = []
        for day, r in self._dated("QuestionnaireResponse", "authored"):
            if r.get("status") not in ("completed", "amended"):
                continue
            url = str(r.get("questionnaire", "")).split("|")[0]
            instrument = next((i for i in INSTRUMENTS if url.endswith(f"/Questionnaire/{i}")),
                              None)
            if instrument and (prom := _prom(day, instrument, r.get("item") or [])):
                found.append(prom)
        return found or None


def _answer(item: dict[str, Any]) -> float | None:
    answer = (item.get("answer") or [{}])[0]
    if "valueCoding" in answer:
        code = str(answer["valueCoding"].get("code", ""))
        return int(code) if code.isdigit() else None
    value = _value(answer)
    return None if isinstance(value, bool) else value


def _prom(day: dt.date, instrument: str, items: list[dict[str, Any]]) -> Prom | None:
    if instrument == "odi":
        by_link = {i.get("linkId"): _answer(i) for i in items}
        answers = [by_link.get(f"odi-{n}") for n in range(1, 11)]
        return Prom(date=day, instrument="odi", answers=answers)
    value = next((v for i in items if (v := _answer(i)) is not None), None)
    return None if value is None else Prom(date=day, instrument=instrument, value=value)


def _block(day: dt.date, side: str | None, target: str | None, guidance: str | None,
           relief: Resource | None) -> Block | None:
    """The block from its diary (minutes 0 is the baseline); none without a diary."""
    diary = []
    for c in (relief or {}).get("component") or []:
        minutes = next((e.get("valueInteger") for e in c.get("extension") or []
                        if str(e.get("url", "")).endswith("/minutes-after-block")), None)
        if minutes is not None and (pain := _value(c)) is not None:
            diary.append(DiaryEntry(minutes=minutes, pain=pain))
    diary.sort(key=lambda e: e.minutes)
    if len(diary) < 2 or diary[0].minutes != 0 or diary[0].pain == 0:
        return None
    return Block(date=day, side=side, target=target, guidance=guidance or "none",
                 pain_before=diary[0].pain, pain_after=min(e.pain for e in diary[1:]),
                 diary=diary)


def _relief(outcome: Resource | None) -> dict[str, Any]:
    found = {}
    for c in (outcome or {}).get("component") or []:
        code = _first(c.get("code"), ("relief_percent", "relief_weeks", "relief_ongoing"))
        if code and (value := _value(c)) is not None:
            found[code] = value
    return found


def case_from_resources(resources: Iterable[Resource], as_of: dt.date,
                        patient_id: str) -> Case:
    """The Case the resources tell of on `as_of`; raises pydantic's ValidationError (each
    field named) when they tell an impossible one."""
    reading = _Reading(resources, as_of)
    blocks, procedures = reading.procedures()
    return Case(as_of=as_of, patient=reading.patient(patient_id), history=reading.history(),
                exam=reading.exam(), blocks=blocks, procedures=procedures,
                medications=reading.medications(), allergies=reading.allergies(),
                proms=reading.proms())
