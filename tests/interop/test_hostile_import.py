"""The FHIR importer under hostile input: bundles and NDJSON bent a few places at a time (a
reference cut, a resourceType changed, a date or a coding replaced by junk) and random text.
Reading gives resources or one BadFile naming the file; mapping what was read gives a patient
and the resources it skipped; a whole import into a database gives a report. Never a
traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from sijcare.interop.fhir.importing import by_patient, import_fhir
from sijcare.interop.fhir.incoming import incoming_patient
from sijcare.interop.fhir.reading import BadFile, identifiers, read_bytes, resolved
from tests.fuzzing import fuzzing, report_counts
from tests.interop.test_import import TODAY, _bundle, _patient, _steroid_allergy
from tests.mutations import bent, trees
from tests.store.helpers import clinic_with_clinician

GOLDEN = Path(__file__).parent / "golden" / "demo-export.ndjson"
SUBJECT = "Patient/5"


def _golden_bundle() -> dict:
    """The demo export's first patient and everything about them, as a transaction."""
    lines = [json.loads(line) for line in GOLDEN.read_text().splitlines()]
    about = [r for r in lines if f"{r['resourceType']}/{r['id']}" == SUBJECT
             or SUBJECT in json.dumps(r)]
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in about]}


SEEDS = [_golden_bundle(), _bundle(_patient(), _steroid_allergy())]
TRIED = {"read": 0, "bad files": 0, "mapped patients": 0, "imports": 0}


def _sent() -> st.SearchStrategy[tuple[str, bytes]]:
    """A bent bundle as JSON, its resources as bent NDJSON, or random trees."""
    bundles = st.sampled_from(SEEDS).flatmap(bent)
    ndjson = st.sampled_from(SEEDS).flatmap(
        lambda seed: st.lists(st.sampled_from([e["resource"] for e in seed["entry"]]).flatmap(
            bent), min_size=1, max_size=6))
    return (bundles.map(lambda b: ("bent.json", json.dumps(b).encode()))
            | ndjson.map(lambda rs: ("bent.ndjson",
                                     "\n".join(json.dumps(r) for r in rs).encode()))
            | trees().map(lambda t: ("tree.json", json.dumps(t).encode()))
            | st.binary(max_size=200).map(lambda b: ("bytes.ndjson", b)))


def read(name: str, data: bytes) -> list | None:
    """The resources read, or None after checking the BadFile names the file."""
    TRIED["read"] += 1
    try:
        return resolved([read_bytes(name, data)])
    except BadFile as error:
        TRIED["bad files"] += 1
        assert str(error).startswith(name), error
        return None


@fuzzing(150)
@given(sent=_sent())
def test_a_bent_file_is_read_and_mapped_or_one_bad_file(sent: tuple[str, bytes]) -> None:
    placed = read(*sent)
    if placed is None:
        return
    patients, about_nobody = by_patient(placed)
    assert all(skipped.reason for _, skipped in about_nobody)
    for _, patient, resources in patients:
        incoming = incoming_patient(patient, resources, TODAY)
        TRIED["mapped patients"] += 1
        assert all(skipped.reason for skipped in incoming.skipped)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, int, int,
                                                                         Path]]:
    directory = tmp_path_factory.mktemp("hostile-import")
    with clinic_with_clinician(directory / "import.db") as (session, clinic, user):
        yield session, clinic, user, directory


def test_a_bent_file_imports_with_a_report_or_one_bad_file(database) -> None:  # type: ignore[no-untyped-def]
    session, clinic, user, directory = database

    @fuzzing(60)
    @given(sent=_sent())
    def imports(sent: tuple[str, bytes]) -> None:
        name, data = sent
        path = directory / name
        path.write_bytes(data)
        TRIED["imports"] += 1
        try:
            report = import_fhir(session, [path], clinic, user, today=TODAY)
        except BadFile as error:
            assert str(error).startswith(str(path)) or str(error).startswith(name), error
            return
        assert report.summary().startswith("patients: ")
        assert all(row[3] for row in report.rows)  # every row says why

    imports()


def _misshapen() -> list[dict]:
    """What the bent-file property found raising TypeError in the mapping."""
    subject = {"reference": "urn:uuid:p1"}
    odi = "https://sijcare.org/fhir/Questionnaire/odi"
    return [
        {"_uuid": "o1", "resourceType": "Observation", "id": "o1", "status": "final",
         "subject": subject, "code": {"coding": None}, "effectiveDateTime": "2026-10-01"},
        {"_uuid": "m1", "resourceType": "MedicationStatement", "id": "m1", "status": "active",
         "subject": subject, "medicationCodeableConcept": {"coding": [{"code": ["x"]}]}},
        {"_uuid": "q1", "resourceType": "QuestionnaireResponse", "id": "q1",
         "status": "completed", "subject": subject, "questionnaire": odi,
         "authored": "2026-10-01", "item": [{"linkId": ["odi-1"]}, {"linkId": "odi-2",
                                             "answer": [{"valueCoding": {"code": None}}]}]},
        {"_uuid": "c1", "resourceType": "Condition", "id": "c1", "subject": subject,
         "code": "not a concept", "bodySite": 7, "onsetDateTime": ["2026-01-01"]},
    ]


def test_misshapen_fields_are_skipped_with_a_reason_or_read_around() -> None:
    placed = read("misshapen.json", json.dumps(_bundle(_patient(), *_misshapen())).encode())
    assert placed is not None
    [(_, patient, resources)], _ = by_patient(placed)
    incoming = incoming_patient(patient, resources, TODAY)
    assert all(skipped.reason for skipped in incoming.skipped)


@pytest.mark.parametrize("shape", [True, 7, "MRN-1", [True, None, "x"], {"value": 5}])
def test_an_identifier_of_any_shape_is_read_around(shape: object) -> None:
    """Found by `scripts/stress-fuzz 4`: a bent file whose resource had `"identifier": true`
    crashed the reader instead of being read (no identifier) or refused."""
    assert identifiers({"resourceType": "Patient", "identifier": shape}) == []
    bent_patient = {**_patient(), "identifier": shape}
    placed = read("bent.json", json.dumps(_bundle(bent_patient, _steroid_allergy())).encode())
    assert placed is not None


def test_the_counts_are_reported() -> None:
    """Runs last in this module: every path was reached."""
    report_counts("fhir import examples", TRIED)
    assert all(TRIED.values()), TRIED
