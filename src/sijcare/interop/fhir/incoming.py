"""A patient's resources as the records sijcare keeps: the mapping of the export read back.

Pure: resources in, an `IncomingPatient` out (demographics, episodes, record forms as plain
data) with every resource it does not take listed with its reason. The store validates the
forms as it validates a clinician's (`interop/fhir/saving.py`).

- Intake, exam and medications are dated by the day they were recorded: the facts of one
  day (a pain rating, red flags, provocation tests, allergies) make one record of that day.
- Blocks and procedures are Procedures by code; a block's diary is its relief Observation's
  components (`partOf` the block); an outcome follows up the procedure it is `partOf`.
- QuestionnaireResponses become PROM records; the score Observations derived from them are
  skipped (the score is worked out again from the answers).
- Signatures (DocumentReference, Provenance, the encounter diagnosis, CarePlan,
  ServiceRequest) stay with the clinic that signed them: the assessment is made again here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, get_args

from sijcare.interop.fhir.base import objects
from sijcare.interop.fhir.findings import read_findings
from sijcare.interop.fhir.nothing import read_none
from sijcare.interop.fhir.procedures import IMAGE_GUIDANCE, MINUTES_AFTER_BLOCK
from sijcare.interop.fhir.questionnaires import questionnaire_url
from sijcare.interop.fhir.reading import identifiers, reference_id
from sijcare.interop.fhir.workup import read_care_course, read_imaging
from sijcare.knowledge.terminology import load_terminology
from sijcare.model.case import Allergy, Block, Guidance, ProcedureKind, RedFlag, Side
from sijcare.model.case import Provocation as Tests

ALLERGIES = set(get_args(Allergy))
RED_FLAGS = set(get_args(RedFlag))
PROCEDURES = set(get_args(ProcedureKind))
SIDES = set(get_args(Side))
GUIDANCE = set(get_args(Guidance))
TESTS = set(Tests.model_fields)
BLOCK_TARGETS = get_args(get_args(Block.model_fields["target"].annotation)[0])
COMPLICATION_OF = ("relief_percent", "relief_weeks", "relief_ongoing", "pgic")
SIGNATURE_TYPES = {"DocumentReference", "Provenance", "CarePlan", "ServiceRequest"}
DEFINITIONS = {"CodeSystem", "Questionnaire", "ValueSet", "StructureDefinition"}


@dataclass(frozen=True)
class Skipped:
    resource: str  # Type/id
    reason: str


@dataclass
class Incoming:
    """One record to write; `source` names the resources it is made of (unique per patient);
    `follows` is the source of the procedure an outcome follows up."""

    source: str
    kind: str
    data: dict[str, Any]
    recorded_on: dt.date
    resources: list[str]
    follows: str | None = None
    patient_reported: bool = False


@dataclass
class IncomingEpisode:
    source: str
    complaint: str
    opened_on: dt.date
    closed_on: dt.date | None
    onset: str | None = None
    side: str | None = None


@dataclass
class IncomingPatient:
    source: str  # the identifier (system|value) the patient is known by, else Patient/id
    resource: str  # Type/id in the file
    given_name: str
    family_name: str
    birth_date: str
    sex: str
    external_id: str | None
    demo: bool
    episodes: list[IncomingEpisode] = field(default_factory=list)
    records: list[Incoming] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def key(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def vocabulary(concept: object) -> list[str]:
    """The vocabulary codes a CodeableConcept's codings stand for."""
    terms = load_terminology()
    codings = concept.get("coding") if isinstance(concept, dict) else None
    found = [terms.concept_of(c.get("system", ""), c["code"])
             for c in codings if isinstance(c, dict) and isinstance(c.get("system", ""), str)
             and isinstance(c.get("code"), str)] if isinstance(codings, list) else []
    return [code for code in found if code]


def _day(value: object) -> dt.date | None:
    """The date of a FHIR date or dateTime (`2024-03-01T10:00:00Z` -> 2024-03-01)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _effective(resource: dict[str, Any], *names: str) -> dt.date | None:
    for name in names:
        value = resource.get(name)
        if isinstance(value, dict):
            value = value.get("start")
        if found := _day(value):
            return found
    return None


def _status_code(concept: object) -> str | None:
    codings = concept.get("coding", []) if isinstance(concept, dict) else []
    return codings[0].get("code") if codings and isinstance(codings[0], dict) else None


def _number(holder: dict[str, Any]) -> float | None:
    for name in ("valueInteger", "valueDecimal"):
        if isinstance(holder.get(name), int | float) and not isinstance(holder[name], bool):
            return holder[name]
    quantity = holder.get("valueQuantity")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
        return quantity["value"]
    return None


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


# The readers take each field as FHIR R4 shapes it (a list of codings, a string code); a
# resource that shapes one otherwise is skipped, with this reason, not read half-way.
MISSHAPEN = (TypeError, AttributeError, KeyError, IndexError, ValueError)
WRONG_SHAPE = "has a field of a type FHIR R4 does not allow there (a list for a text, say)"


class _Collector:
    """The facts of one patient's resources, grouped into records as they are read."""

    def __init__(self, patient: IncomingPatient, by_key: dict[str, dict[str, Any]],
                 today: dt.date):
        self.patient, self.by_key, self.today = patient, by_key, today
        self.daily: dict[tuple[str, dt.date], Incoming] = {}
        self.reliefs: dict[str, dict[str, Any]] = {}  # block Procedure key -> relief Observation

    def skip(self, resource: dict[str, Any], reason: str) -> None:
        self.patient.skipped.append(Skipped(key(resource), reason))

    def daily_record(self, kind: str, day: dt.date, resource: dict[str, Any]) -> dict[str, Any]:
        """The data of the `kind` record of `day`, begun if it is the day's first fact."""
        record = self.daily.get((kind, day))
        if record is None:
            record = Incoming(f"{kind}/{day.isoformat()}", kind, {}, day, [])
            self.daily[(kind, day)] = record
            self.patient.records.append(record)
        record.resources.append(key(resource))
        return record.data

    def add(self, resource: dict[str, Any]) -> None:
        kind = resource["resourceType"]
        reader = getattr(self, f"_{kind.lower()}", None)
        if reader is not None:
            try:
                reader(resource)
            except MISSHAPEN:
                self.skip(resource, WRONG_SHAPE)
        elif kind in SIGNATURE_TYPES:
            self.skip(resource, "part of a signed assessment: signatures stay with the clinic "
                                "that signed; the assessment is made again from the records")
        elif kind in DEFINITIONS:
            self.skip(resource, "a definition, not a fact about the patient")
        else:
            self.skip(resource, f"sijcare keeps no {kind} (not a fact the SI-joint pathway "
                                "reads)")

    def _condition(self, resource: dict[str, Any]) -> None:
        codes = vocabulary(resource.get("code"))
        verification = _status_code(resource.get("verificationStatus"))
        categories = [c for concept in resource.get("category") or []
                      for c in [_status_code(concept)]]
        if verification in ("entered-in-error", "refuted"):
            return self.skip(resource, f"verification status {verification}")
        if "sij_pain" in codes and "encounter-diagnosis" in categories:
            return self.skip(resource, "the diagnosis of a signed assessment: made again here")
        if "sij_pain" in codes:
            return self._episode(resource)
        flags = [c for c in codes if c in RED_FLAGS]
        day = _effective(resource, "recordedDate", "onsetDateTime", "onsetPeriod")
        if not flags:
            return self.skip(resource, "not a red flag or SI-joint problem sijcare reads")
        if day is None:
            return self.skip(resource, "has no recordedDate or onset to date it by")
        data = self.daily_record("intake", day, resource)
        data["red_flags"] = _joined(data.get("red_flags", []), flags)

    def _episode(self, resource: dict[str, Any]) -> None:
        opened = _effective(resource, "recordedDate", "onsetDateTime") or self.today
        notes = [n.get("text") for n in resource.get("note") or [] if isinstance(n, dict)]
        sides = [c for site in resource.get("bodySite") or [] for c in vocabulary(site)
                 if c in SIDES]
        onset = resource.get("onsetDateTime")
        self.patient.episodes.append(IncomingEpisode(
            key(resource), (notes[0] if notes and notes[0] else "SI-joint pain")[:200], opened,
            _day(resource.get("abatementDateTime")),
            onset[:10] if isinstance(onset, str) else None, sides[0] if sides else None))

    def _observation(self, resource: dict[str, Any]) -> None:
        if resource.get("status") in ("entered-in-error", "cancelled", "preliminary"):
            return self.skip(resource, f"status {resource.get('status')}")
        if resource.get("derivedFrom"):
            return self.skip(resource, "a score derived from answers: worked out again from "
                                       "the QuestionnaireResponse")
        codes = vocabulary(resource.get("code"))
        day = _effective(resource, "effectiveDateTime", "effectivePeriod", "issued")
        if day is None:
            return self.skip(resource, "has no effective date")
        if "block_relief" in codes:
            block = reference_id((resource.get("partOf") or [None])[0])
            if block is None:
                return self.skip(resource, "block relief without the block it is partOf")
            self.reliefs[block] = resource
            return None
        if "procedure_outcome" in codes:
            return self._outcome(resource, day)
        if "nrs" in codes:
            value = _number(resource)
            if value is None:
                return self.skip(resource, "a pain rating without a value")
            self.daily_record("intake", day, resource)["pain_nrs"] = _whole(value)
            return None
        if "red_flags" in codes:
            flags = [c for part in resource.get("component") or []
                     if part.get("valueBoolean") is True
                     for c in vocabulary(part.get("code")) if c in RED_FLAGS]
            data = self.daily_record("intake", day, resource)
            data["red_flags"] = _joined(data.get("red_flags", []), flags)
            return None
        if tests := [c for c in codes if c in TESTS]:
            return self._test(resource, tests[0], day)
        for kind, code in (("intake", "history"), ("exam", "exam")):
            if code in codes:
                self.daily_record(kind, day, resource).update(read_findings(resource, kind))
                return None
        if self._categorised(resource, "imaging"):
            data = {**read_imaging(resource), "date": day.isoformat()}
            self.patient.records.append(Incoming(key(resource), "imaging", data, day,
                                                 [key(resource)]))
            return None
        return self.skip(resource, "not an observation sijcare reads")

    @staticmethod
    def _categorised(resource: dict[str, Any], name: str) -> bool:
        wanted = load_terminology().category(name)
        return any(c.get("system") == wanted["system"] and c.get("code") == wanted["code"]
                   for concept in resource.get("category") or [] if isinstance(concept, dict)
                   for c in concept.get("coding") or [] if isinstance(c, dict))

    def _care_course(self, resource: dict[str, Any]) -> None:
        if resource.get("status") not in ("completed", "in-progress"):
            return self.skip(resource, f"status {resource.get('status')}")
        data = read_care_course(resource)
        if data is None:
            return self.skip(resource, "a course of care without a type or a start date")
        start = dt.date.fromisoformat(data["start"])
        self.patient.records.append(Incoming(key(resource), "care_course", data, start,
                                             [key(resource)]))
        return None

    def _test(self, resource: dict[str, Any], test: str, day: dt.date) -> None:
        results = [c for c in vocabulary(resource.get("valueCodeableConcept"))
                   if c in ("positive", "negative")]
        if not results:
            return self.skip(resource, "a provocation test without a positive or negative "
                                       "result")
        finding: dict[str, Any] = {"result": results[0]}
        for part in resource.get("component") or []:
            codes = vocabulary(part.get("code"))
            if "side" in codes:
                sides = [c for c in vocabulary(part.get("valueCodeableConcept")) if c in SIDES]
                finding["side"] = sides[0] if sides else None
            if "familiar_pain" in codes and isinstance(part.get("valueBoolean"), bool):
                finding["familiar_pain"] = part["valueBoolean"]
        data = self.daily_record("exam", day, resource)
        data.setdefault("provocation", {})[test] = {k: v for k, v in finding.items()
                                                    if v is not None}
        return None

    def _outcome(self, resource: dict[str, Any], day: dt.date) -> None:
        follows = reference_id((resource.get("partOf") or [None])[0])
        if follows is None:
            return self.skip(resource, "a procedure outcome without the procedure it is partOf")
        data: dict[str, Any] = {"date": day.isoformat()}
        for part in resource.get("component") or []:
            codes = [c for c in vocabulary(part.get("code")) if c in COMPLICATION_OF]
            if not codes:
                continue
            if codes[0] == "relief_ongoing":
                data["relief_ongoing"] = part.get("valueBoolean")
            elif (value := _number(part)) is not None:
                data[codes[0]] = _whole(value)
        self.patient.records.append(Incoming(key(resource), "procedure_outcome", data, day,
                                             [key(resource)], follows=follows))
        return None

    def _procedure(self, resource: dict[str, Any]) -> None:
        if "care_course" in vocabulary(resource.get("category")):
            return self._care_course(resource)
        if resource.get("status") != "completed":
            return self.skip(resource, f"status {resource.get('status')}: not done")
        codes = vocabulary(resource.get("code"))
        day = _effective(resource, "performedDateTime", "performedPeriod")
        if day is None:
            return self.skip(resource, "has no performed date")
        sides = [c for site in resource.get("bodySite") or [] for c in vocabulary(site)
                 if c in SIDES]
        guidance = [c for ext in resource.get("extension") or []
                    if str(ext.get("url", "")).endswith(IMAGE_GUIDANCE)
                    for c in vocabulary(ext.get("valueCodeableConcept")) if c in GUIDANCE]
        data: dict[str, Any] = {"date": day.isoformat(), "side": sides[0] if sides else None,
                                "guidance": guidance[0] if guidance else None}
        if "block" in codes:
            data["target"] = _block_target(resource.get("code"))
            record = Incoming(key(resource), "block", data, day, [key(resource)])
        elif kinds := [c for c in codes if c in PROCEDURES]:
            record = Incoming(key(resource), "procedure", {**data, "kind": kinds[0]}, day,
                              [key(resource)])
        else:
            return self.skip(resource, "not an SI-joint block or procedure sijcare records")
        record.data = {k: v for k, v in record.data.items() if v is not None}
        self.patient.records.append(record)
        return None

    def _allergyintolerance(self, resource: dict[str, Any]) -> None:
        verification = _status_code(resource.get("verificationStatus"))
        if verification in ("entered-in-error", "refuted"):
            return self.skip(resource, f"verification status {verification}")
        if _status_code(resource.get("clinicalStatus")) in ("inactive", "resolved"):
            return self.skip(resource, "no longer active")
        codes = vocabulary(resource.get("code"))
        day = _effective(resource, "recordedDate", "onsetDateTime") or self.today
        if "no_known_allergy" in codes:
            self.daily_record("medications", day, resource).setdefault("allergies", [])
            return None
        found = [c for c in codes if c in ALLERGIES]
        if not found:
            text = (resource.get("code") or {}).get("text") or "this substance"
            return self.skip(resource, f"allergy to {text} is none the safety stops read "
                                       f"({', '.join(sorted(ALLERGIES))}): check it by hand")
        data = self.daily_record("medications", day, resource)
        data["allergies"] = _joined(data.get("allergies", []), found)
        return None

    def _medicationstatement(self, resource: dict[str, Any]) -> None:
        taking = {"active": True, "intended": True, "not-taken": False}.get(
            resource.get("status", ""))
        self._medication(resource, taking, "effectiveDateTime", "effectivePeriod",
                         "dateAsserted")

    def _medicationrequest(self, resource: dict[str, Any]) -> None:
        taking = True if resource.get("status") == "active" else None
        self._medication(resource, taking, "authoredOn")

    def _medication(self, resource: dict[str, Any], taking: bool | None, *dated: str) -> None:
        concept = resource.get("medicationCodeableConcept")
        if concept is None and (named := reference_id(resource.get("medicationReference"))):
            concept = self.by_key.get(named, {}).get("code")
        terms = load_terminology()
        codings = concept.get("coding", []) if isinstance(concept, dict) else []
        anticoagulant = "anticoagulant" in vocabulary(concept) or any(
            terms.anticoagulant_class(c.get("system", ""), str(c.get("code", "")))
            for c in codings if isinstance(c, dict))
        if not anticoagulant:
            return self.skip(resource, "not an anticoagulant (the only medicine the engine "
                                       "reads)")
        if taking is None:
            return self.skip(resource, f"status {resource.get('status')}: not taken now")
        day = _effective(resource, *dated) or self.today
        data = self.daily_record("medications", day, resource)
        data["anticoagulant"] = data.get("anticoagulant", False) or taking
        return None

    def _questionnaireresponse(self, resource: dict[str, Any]) -> None:
        if resource.get("status") not in ("completed", "amended"):
            return self.skip(resource, f"status {resource.get('status')}")
        url = str(resource.get("questionnaire", "")).split("|")[0]
        instrument = next((i for i in ("odi", "nrs", "pgic") if questionnaire_url(i) == url),
                          None)
        day = _day(resource.get("authored"))
        if instrument is None:
            return self.skip(resource, f"answers a questionnaire sijcare does not score "
                                       f"({url or 'none named'})")
        if day is None:
            return self.skip(resource, "has no authored date")
        answers = {item["linkId"]: (item.get("answer") or [None])[0]
                   for item in resource.get("item") or []
                   if isinstance(item, dict) and isinstance(item.get("linkId"), str)}
        data: dict[str, Any] = {"date": day.isoformat(), "instrument": instrument}
        if instrument == "odi":
            data["answers"] = [_answer_value(answers.get(f"odi-{n}")) for n in range(1, 11)]
        else:
            data["value"] = _answer_value(answers.get(instrument))
        reported = reference_id(resource.get("source")) == reference_id(resource.get("subject"))
        self.patient.records.append(Incoming(
            key(resource), "prom", data, day, [key(resource)],
            patient_reported=reported and resource.get("source") is not None))
        return None

    def _list(self, resource: dict[str, Any]) -> None:
        if resource.get("status") != "current":
            return self.skip(resource, f"status {resource.get('status')}")
        kind, day = read_none(resource), _day(resource.get("date"))
        if kind is None:
            return self.skip(resource, "not a list of none found that sijcare reads")
        if day is None:
            return self.skip(resource, "has no date")
        self.patient.records.append(Incoming(key(resource), kind, {"none": True}, day,
                                             [key(resource)]))
        return None

    def _organization(self, resource: dict[str, Any]) -> None:
        self.skip(resource, "the importing clinic keeps the patient")

    def finish(self) -> None:
        """Blocks take their diaries; the episodes' onset and side join their latest intake."""
        for record in self.patient.records:
            if record.kind != "block":
                continue
            relief = self.reliefs.pop(record.source, None)
            if relief is None:
                continue  # the store reports the missing diary by the form's own words
            try:
                diary = [
                    {"minutes": ext.get("valueInteger"), "pain": _whole(_number(part) or 0)}
                    for part in relief.get("component") or []
                    for ext in part.get("extension") or []
                    if str(ext.get("url", "")).endswith(MINUTES_AFTER_BLOCK)]
            except MISSHAPEN:
                self.skip(relief, WRONG_SHAPE)
                continue
            record.resources.append(key(relief))
            record.data["diary"] = diary
        for source in self.reliefs.values():
            self.skip(source, "relief of a block the file does not hold")
        for episode in self.patient.episodes:
            if episode.onset is None and episode.side is None:
                continue
            intakes = [r for r in self.patient.records if r.kind == "intake"
                       and r.recorded_on >= episode.opened_on]
            intake = intakes[-1].data if intakes else self.daily_record(
                "intake", episode.opened_on, {"resourceType": "Condition",
                                              "id": episode.source.split("/")[-1]})
            if episode.onset:
                intake["pain_onset"] = episode.onset
            if episode.side:
                intake["side"] = episode.side


def _joined(known: list[str], more: list[str]) -> list[str]:
    """Both lists, in the order first seen, each code once."""
    return list(dict.fromkeys([*known, *more]))


def _answer_value(answer: object) -> int | float | None:
    if not isinstance(answer, dict):
        return None
    coding = answer.get("valueCoding")
    if isinstance(coding, dict):
        try:
            return int(coding.get("code", ""))
        except (TypeError, ValueError):
            return None
    value = _number(answer)
    return _whole(value) if value is not None else None


def _block_target(concept: object) -> str | None:
    """Where a block went, by the billing code it carries (27096: into the joint)."""
    terms = load_terminology()
    codings = concept.get("coding", []) if isinstance(concept, dict) else []
    by_code = {(c["system"], c["code"]): target for target in BLOCK_TARGETS
               for c in terms.codings(target)}
    return next((by_code[(c.get("system"), c.get("code"))] for c in codings
                 if (c.get("system"), c.get("code")) in by_code), None)


def _name(resource: dict[str, Any]) -> tuple[str, str]:
    names = objects(resource.get("name"))
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = name.get("given")
    first = given[0] if isinstance(given, list) and given else ""
    return str(first)[:100], str(name.get("family", ""))[:100]


def _identity(resource: dict[str, Any]) -> tuple[str, str | None]:
    """The identifier the patient is known by (a medical record number first) and the number
    kept as theirs."""
    found = [i for i in objects(resource.get("identifier")) if isinstance(i.get("value"), str)]
    medical = [i for i in found if _status_code(i.get("type")) == "MR"]
    chosen = (medical or found or [None])[0]
    if chosen is None:
        return key(resource), None
    return identifiers({"identifier": [chosen]})[0], chosen["value"][:120]


def incoming_patient(patient: dict[str, Any], resources: list[dict[str, Any]],
                     today: dt.date) -> IncomingPatient:
    """The patient and what `resources` (those whose subject is the patient, and anything
    they name such as Medications) say about them."""
    source, external_id = _identity(patient)
    given, family = _name(patient)
    meta = patient.get("meta") if isinstance(patient.get("meta"), dict) else {}
    security = [c.get("code") for c in objects(meta.get("security"))]
    found = IncomingPatient(
        source, key(patient), given, family, str(patient.get("birthDate", "")),
        patient.get("gender") or "unknown", external_id,
        load_terminology().category("synthetic")["code"] in security)
    collector = _Collector(found, {key(r): r for r in resources}, today)
    for resource in resources:
        if resource is not patient and resource["resourceType"] != "Medication":
            collector.add(resource)
    collector.finish()
    return found
