"""A questionnaire answered (a PROM record): a US Core QuestionnaireResponse linked to its
Questionnaire, and the score as a screening-assessment Observation derived from it.

The ODI score is worked out as everywhere else (`instruments.odi.score_odi`); too few
sections answered give no score, said by `dataAbsentReason`.
"""

from __future__ import annotations

from typing import Any

from sijcare.instruments import pgic
from sijcare.instruments.odi import score_odi
from sijcare.interop.fhir.base import (
    Resource,
    category,
    concept,
    fhir_id,
    meta,
    reference,
    user_reference,
)
from sijcare.interop.fhir.history import pain_score
from sijcare.interop.fhir.questionnaires import answer, questionnaire_url
from sijcare.interop.fhir.records import Recorded
from sijcare.knowledge import load_knowledge
from sijcare.labels import label

# US Core's questionnaireDisplay: the Questionnaire's title beside its canonical. HL7's R4
# JSON schema has no `_questionnaire` for it (canonical has no `_x` sibling there): the
# schema test names this one gap.
DISPLAY = "http://hl7.org/fhir/StructureDefinition/display"
SCORE = {"unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"}


def prom_resources(prom: Recorded, patient_reported: bool) -> list[Resource]:
    form = prom.form
    response_id = fhir_id("prom", prom.id)
    items = _items(form)
    response: Resource = {
        "resourceType": "QuestionnaireResponse", "id": response_id, "meta": meta("response"),
        "questionnaire": questionnaire_url(form.instrument),
        "_questionnaire": {"extension": [{"url": DISPLAY,
                                          "valueString": label(form.instrument)}]},
        "status": prom.status("completed"), "subject": prom.subject,
        "authored": form.date.isoformat(),
        "author": prom.subject if patient_reported else user_reference(prom.author),
        "item": items,
    }
    if patient_reported:
        response["source"] = prom.subject
    if response["author"] is None:
        del response["author"]
    derived = [reference("QuestionnaireResponse", response_id)]
    return [response, _score(prom, derived)]


def _items(form: Any) -> list[dict[str, Any]]:
    if form.instrument == "odi":
        return [{"linkId": f"odi-{number}", **({"answer": [{"valueCoding": answer("odi", a)}]}
                                                if a is not None else {})}
                for number, a in enumerate(form.answers, start=1)]
    if form.instrument == "pgic":
        return [{"linkId": "pgic",
                 "answer": [{"valueCoding": answer("pgic", int(form.value), pgic.ANSWERS)}]}]
    value = form.value
    return [{"linkId": "nrs", "answer": [{"valueInteger": int(value)}
                                         if float(value).is_integer()
                                         else {"valueDecimal": value}]}]


def _score(prom: Recorded, derived: list[dict[str, str]]) -> Resource:
    form = prom.form
    day = form.date.isoformat()
    score_id = fhir_id("prom", prom.id, "score")
    if form.instrument == "nrs":
        return pain_score(prom, score_id, form.value, day, derived)
    found: Resource = {
        "resourceType": "Observation", "id": score_id, "meta": meta("assessment"),
        "status": prom.status("final"), "category": [category("survey")],
        "code": concept("pgic"), "subject": prom.subject, "effectiveDateTime": day,
        "derivedFrom": derived,
    }
    if form.instrument == "pgic":
        found["valueInteger"] = int(form.value)
        return found
    found["category"].append(category("functional_status"))
    found["code"] = concept("odi_score")
    score = score_odi(list(form.answers), load_knowledge().outcomes.odi).score
    if score is None:  # too few sections answered to score
        found["dataAbsentReason"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
            "code": "unknown"}], "text": "Too few sections answered to score"}
    else:
        found["valueQuantity"] = {"value": score, **SCORE}
    return found
