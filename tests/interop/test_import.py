"""`sijcare import fhir`: the demo's export read back, a second import that changes nothing,
bad files refused whole, the same patient recognised, Synthea's bundle with its skips
reported, and the safety rule for facts no clinician has reviewed yet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sijcare.cli import app
from sijcare.interop.fhir.export import bulk_export
from sijcare.interop.fhir.importing import import_fhir
from sijcare.interop.fhir.reading import BadFile, read_bytes, resolved
from sijcare.store import load_demo, make_engine, upgrade
from sijcare.store.episode_records import load_episode_records
from sijcare.store.kinds import KINDS
from sijcare.store.models import ImportedRecord, Patient, PromRecord
from sijcare.store.patients import create_episode, create_patient
from sijcare.store.review import awaiting_review, review_import
from sijcare.store.users import create_clinic, create_user
from sijcare.web.assessing import assess_episode
from tests.store.helpers import clinic_with_clinician

TODAY = dt.date(2026, 11, 1)
SYNTHEA = Path(__file__).parent / "fixtures" / "synthea"
runner = CliRunner()


@pytest.fixture()
def empty(tmp_path: Path):
    with clinic_with_clinician(tmp_path / "empty.db", "Demo Clinic (synthetic data)") as made:
        yield made


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    engine = make_engine(f"sqlite:///{directory / 'demo.db'}")
    upgrade(engine)
    with Session(engine) as session:
        load_demo(session, today=TODAY)
        session.commit()
        bulk_export(session, directory / "out")
        assessments = {p.external_id or f"patient-{p.id}": _assessed(session, p)
                       for p in session.scalars(select(Patient))}
    engine.dispose()
    (directory / "assessments.json").write_text(json.dumps(assessments))
    return directory


def _assessed(session: Session, patient: Patient) -> list[dict]:
    """Each episode's assessment on TODAY, without what names the patient."""
    found = []
    for episode in patient.episodes:
        assessment = assess_episode(session, episode.id, "medicare", TODAY)
        found.append(assessment.model_dump(mode="json", exclude={"patient_id", "unreviewed"}))
    return found


def _normal(resource: dict) -> str:
    """A resource without ids, instants and who entered it (the importer, here)."""
    def walk(node):
        if isinstance(node, dict):
            return {k: (v.split("/")[0] if k == "reference" else walk(v))
                    for k, v in node.items() if k not in ("id", "lastUpdated", "author")}
        return [walk(n) for n in node] if isinstance(node, list) else node
    return json.dumps(walk(resource), sort_keys=True)


def _resources(directory: Path) -> Counter:
    return Counter(_normal(json.loads(line)) for path in sorted(directory.glob("*.ndjson"))
                   for line in path.read_text(encoding="utf-8").splitlines())


def _accept_all(session: Session, actor: int) -> None:
    for row in session.scalars(select(ImportedRecord).where(
            ImportedRecord.review == "unreviewed", ImportedRecord.episode_id.is_not(None),
            ImportedRecord.kind.not_in(("patient", "episode")))):
        review_import(session, row.id, True, actor, TODAY)
    session.commit()


def _imported_demo(demo_export: Path, session: Session, clinic: int, user: int) -> None:
    files = sorted((demo_export / "out").glob("*.ndjson"))
    report = import_fhir(session, files, clinic, user, today=TODAY)
    assert report.count("created") == 8 and report.rejected == 0, report.rows
    _accept_all(session, user)


def test_round_trip_gives_the_same_resources(demo_export: Path, empty, tmp_path: Path) -> None:
    session, clinic, user = empty
    _imported_demo(demo_export, session, clinic, user)
    bulk_export(session, tmp_path / "again")
    assert _resources(tmp_path / "again") == _resources(demo_export / "out")


def test_round_trip_gives_the_same_assessments(demo_export: Path, empty) -> None:
    session, clinic, user = empty
    _imported_demo(demo_export, session, clinic, user)
    before = json.loads((demo_export / "assessments.json").read_text())
    after = {p.external_id: _assessed(session, p) for p in session.scalars(select(Patient))}
    assert after == before


def test_a_second_import_changes_nothing(demo_export: Path, empty) -> None:
    session, clinic, user = empty
    files = sorted((demo_export / "out").glob("*.ndjson"))
    first = import_fhir(session, files, clinic, user, today=TODAY)
    rows = session.scalar(select(func.count(ImportedRecord.id)))
    second = import_fhir(session, files, clinic, user, today=TODAY)
    assert first.created > 0 and second.created == 0
    assert second.unchanged == first.created and second.count("matched") == 8
    assert session.scalar(select(func.count(ImportedRecord.id))) == rows


def _bundle(*resources: dict, kind: str = "transaction") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": [
        {"fullUrl": f"urn:uuid:{r.pop('_uuid')}", "resource": r} for r in resources]}


def _patient(uuid: str = "p1", family: str = "Doe", mrn: str = "MRN-1") -> dict:
    return {"_uuid": uuid, "resourceType": "Patient", "id": uuid,
            "identifier": [{"system": "https://hospital.example/mrn", "value": mrn,
                            "type": {"coding": [{"code": "MR"}]}}],
            "name": [{"family": family, "given": ["Jane"]}], "gender": "female",
            "birthDate": "1970-05-01"}


def _allergy(coding: dict, uuid: str = "a1", patient: str = "p1") -> dict:
    return {"_uuid": uuid, "resourceType": "AllergyIntolerance", "id": uuid,
            "clinicalStatus": {"coding": [{"code": "active"}]}, "code": {"coding": [coding]},
            "patient": {"reference": f"urn:uuid:{patient}"}, "recordedDate": "2026-10-01"}


STEROID = {"system": "https://sijcare.org/fhir/CodeSystem/sijcare", "code": "corticosteroid"}


def _steroid_allergy(uuid: str = "a1", patient: str = "p1") -> dict:
    return _allergy(STEROID, uuid, patient)


# The hospital's coding of an allergy -> the allergy the safety stop reads.
ALLERGIES = {
    "sijcare's corticosteroid code": (STEROID, "corticosteroid"),
    "SNOMED CT local anaesthetic alone": ({"system": "http://snomed.info/sct",
                                           "code": "293718005",
                                           "display": "Allergy to local anaesthetic"},
                                          "local_anesthetic"),
}


@pytest.mark.parametrize(("coding", "allergy"), ALLERGIES.values(), ids=list(ALLERGIES))
def test_an_imported_allergy_stops_the_injection_before_review(empty, tmp_path: Path,
                                                               coding: dict,
                                                               allergy: str) -> None:
    session, clinic, user = empty
    patient = create_patient(session, clinic, {
        "given_name": "Jane", "family_name": "Doe", "birth_date": "1970-05-01",
        "sex": "female", "external_id": "MRN-1"}, user)
    episode = create_episode(session, patient.id, {"complaint": "SI-joint pain",
                                                   "opened_on": "2026-09-01"}, user)
    session.commit()
    open_before = assess_episode(session, episode.id, "medicare", TODAY)
    assert _allergy_check(open_before, allergy) != "not_met"
    path = tmp_path / "allergy.json"
    path.write_text(json.dumps(_bundle(_patient(), _allergy(coding))))
    report = import_fhir(session, [path], clinic, user, today=TODAY)
    assert report.count("matched") == 1 and report.created == 1
    stopped = assess_episode(session, episode.id, "medicare", TODAY)
    assert stopped.eligibility["therapeutic_sij_injection"].status == "not_met"
    assert _allergy_check(stopped, allergy) == "not_met"
    assert [(u.kind, u.counted) for u in stopped.unreviewed] == [
        ("medications", [f"allergy:{allergy}"])]
    pending = awaiting_review(session, episode.id)
    review_import(session, pending[0].id, False, user, TODAY)
    session.commit()
    rejected = assess_episode(session, episode.id, "medicare", TODAY)
    assert rejected.unreviewed == [] and rejected.eligibility == open_before.eligibility


def _allergy_check(assessment, allergy: str) -> str:
    injection = assessment.eligibility["therapeutic_sij_injection"]
    return next(c.status for c in injection.criteria if c.id == f"no_{allergy}_allergy")


def test_an_opening_fact_waits_for_review(demo_export: Path, empty) -> None:
    """Imported PROMs (which could open an option) are not in the case until accepted."""
    session, clinic, user = empty
    import_fhir(session, sorted((demo_export / "out").glob("*.ndjson")), clinic, user,
                today=TODAY)
    prom = session.scalars(select(PromRecord)).first()
    unreviewed = assess_episode(session, prom.episode_id, "medicare", TODAY)
    assert ("prom", prom.id) in {(u.kind, u.record_id) for u in unreviewed.unreviewed}
    assert all(u.counted == [] for u in unreviewed.unreviewed if u.kind == "prom")
    _accept_all(session, user)
    reviewed = assess_episode(session, prom.episode_id, "medicare", TODAY)
    assert reviewed.unreviewed == [] and reviewed.outcomes != unreviewed.outcomes


def test_same_name_and_birth_is_offered_for_confirmation(empty, tmp_path: Path) -> None:
    session, clinic, user = empty
    known = create_patient(session, clinic, {"given_name": "Jane", "family_name": "Doe",
                                             "birth_date": "1970-05-01", "sex": "female"}, user)
    session.commit()
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_bundle(_patient(), _steroid_allergy())))
    report = import_fhir(session, [path], clinic, user, today=TODAY)
    assert report.patients[0].status == "needs_confirmation"
    assert report.patients[0].candidates == [known.id]
    assert session.scalar(select(func.count(ImportedRecord.id))) == 0
    source = report.patients[0].source
    confirmed = import_fhir(session, [path], clinic, user, same_as={source: known.id},
                            today=TODAY)
    assert confirmed.patients[0].status == "matched"
    assert confirmed.patients[0].patient_id == known.id
    assert session.scalar(select(func.count(Patient.id))) == 1


BAD = {
    "not JSON": (b'{"resourceType": "Bundle", ', "not valid JSON"),
    "not a Bundle": (json.dumps({"resourceType": "Patient", "id": "x"}).encode(),
                     "expected a Bundle"),
    "unknown type": (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Spaceship", "id": "x"}}]}).encode(),
        "'Spaceship' is not a FHIR R4 resource type"),
    "broken reference": (json.dumps(_bundle(_patient(), _steroid_allergy(patient="gone")))
                         .encode(), "urn:uuid:gone names no entry"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_file_gets_one_clear_error(name: str) -> None:
    data, words = BAD[name]
    with pytest.raises(BadFile, match=words):
        resolved([read_bytes("upload.json", data)])


def test_a_file_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(BadFile, match="more than the 1,000"):
        read_bytes("big.json", b" " * 1001, limit=1000)


def test_the_cli_imports_synthea_and_reports_what_it_skipped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        clinic = create_clinic(session, "Clinic")
        create_user(session, "doc", "x", "clinician", [clinic.id])
        session.commit()
        clinic_id = clinic.id
    engine.dispose()
    report = tmp_path / "skipped.csv"
    result = runner.invoke(app, ["import", "fhir", str(SYNTHEA), "--clinic", str(clinic_id),
                                 "--user", "doc", "--report", str(report), "--url", url])
    assert result.exit_code == 0, result.output
    assert "patients: 1 new" in result.output
    rows = list(csv.DictReader(io.StringIO(report.read_text())))
    assert rows and all(r["reason"] for r in rows)
    assert {"Encounter", "Claim"} <= {r["resource"].split("/")[0] for r in rows}
    again = runner.invoke(app, ["import", "fhir", str(SYNTHEA), "--clinic", str(clinic_id),
                                "--user", "doc", "--url", url])
    assert "0 new, 1 matched" in again.output and "0 imported" in again.output


def test_the_cli_refuses_a_bad_file_with_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        clinic = create_clinic(session, "Clinic")
        create_user(session, "doc", "x", "clinician", [clinic.id])
        session.commit()
        clinic_id = clinic.id
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    result = runner.invoke(app, ["import", "fhir", str(bad), "--clinic", str(clinic_id),
                                 "--user", "doc", "--url", url])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    assert "Traceback" not in result.output
    with Session(engine) as session:
        assert session.scalar(select(func.count(Patient.id))) == 0
    engine.dispose()


def test_an_import_flushes_per_patient_not_per_record(demo_export: Path, empty) -> None:
    """Records are checked one by one but written together (membership asked once per
    patient): the flushes grow with the patients, not with their records (160 before)."""
    session, clinic, user = empty
    flushes = []
    event.listen(session, "after_flush", lambda *_: flushes.append(1))
    report = import_fhir(session, sorted((demo_export / "out").glob("*.ndjson")), clinic, user,
                         today=TODAY)
    assert report.created > 50 and len(report.patients) == 8
    assert len(flushes) <= 10 * len(report.patients)


def test_a_confirmed_none_travels_as_a_nil_known_list_and_waits_for_review(
        demo_export: Path, empty) -> None:
    """"No blocks" could open an option, so imported it counts only once accepted."""
    session, clinic, user = empty
    import_fhir(session, sorted((demo_export / "out").glob("*.ndjson")), clinic, user,
                today=TODAY)
    row = session.scalars(select(ImportedRecord).where(ImportedRecord.kind == "none")).first()
    none = next(n for n in load_episode_records(session, row.episode_id).nones
                if n.id == row.record_id)
    field = KINDS[none.kind].case_field
    pending = load_episode_records(session, row.episode_id).case_as_of(TODAY)
    assert getattr(pending, field) is None
    assert ("none", none.id) in {(u.kind, u.record_id) for u in pending.unreviewed}
    review_import(session, row.id, True, user, TODAY)
    session.commit()
    accepted = load_episode_records(session, row.episode_id).case_as_of(TODAY)
    assert getattr(accepted, field) == []
    assert ("none", none.id) not in {(u.kind, u.record_id) for u in accepted.unreviewed or []}


def test_the_cli_refuses_a_clinic_the_user_is_not_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        mine, other = create_clinic(session, "Mine"), create_clinic(session, "Other")
        create_user(session, "doc", "x", "clinician", [mine.id])
        session.commit()
        other_id = other.id
    engine.dispose()
    result = runner.invoke(app, ["import", "fhir", str(SYNTHEA), "--clinic", str(other_id),
                                 "--user", "doc", "--url", url])
    assert result.exit_code == 2 and "is not a member of clinic" in result.output
    assert "Traceback" not in result.output
