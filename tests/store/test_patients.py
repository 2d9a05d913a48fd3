"""Patients, episodes and users: validated on the way in, searched and paged within the clinics
a user belongs to."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sijcare.store import (
    NotFound,
    Patient,
    RecordError,
    create_clinic,
    create_episode,
    create_patient,
    create_user,
    get_episode,
    get_patient,
    get_user_by_username,
    search_patients,
)
from tests.store.helpers import World

FAMILIES = ["Okafor", "O'Brien", "Nguyen", "Müller", "Smith", "Smithson", "100%_Real", "Adams"]


@pytest.fixture
def registry(session: Session, world: World) -> World:
    """The world's clinic with eight more patients, born a year apart, in a known order."""
    for n, family in enumerate(FAMILIES):
        create_patient(session, world.clinic_id, {
            "given_name": "Pat", "family_name": family, "sex": "other",
            "birth_date": dt.date(1950 + n, 1, 1)}, world.user_id)
    session.commit()
    return world


def names(patients: list[Patient]) -> list[str]:
    return [p.family_name for p in patients]


def test_patient_form_is_validated_with_field_paths(session: Session, world: World) -> None:
    before = session.scalar(select(func.count()).select_from(Patient))
    with pytest.raises(RecordError) as raised:
        create_patient(session, world.clinic_id, {
            "given_name": "  ", "family_name": "X", "birth_date": "1970-02-30",
            "sex": "f", "nickname": "x"}, world.user_id)
    assert {p for p, _ in raised.value.problems} == {"given_name", "birth_date", "sex",
                                                      "nickname"}
    assert session.scalar(select(func.count()).select_from(Patient)) == before


def test_external_id_is_unique_within_a_clinic(session: Session, world: World) -> None:
    data = {"given_name": "A", "family_name": "B", "birth_date": "1980-01-01", "sex": "male",
            "external_id": " mrn-1 "}
    first = create_patient(session, world.clinic_id, data, world.user_id)
    assert first.external_id == "mrn-1" and first.demo is False
    with pytest.raises(RecordError, match="external_id: 'mrn-1' is already used"):
        create_patient(session, world.clinic_id, data, world.user_id)
    other = create_clinic(session, f"Other {secrets.token_hex(3)}")
    colleague = create_user(session, f"colleague_{secrets.token_hex(3)}", "h", "clinician",
                            [other.id])
    assert create_patient(session, other.id, data, colleague.id).external_id == "mrn-1"


def test_writes_need_membership_and_existing_parents(session: Session, world: World) -> None:
    stranger = create_user(session, f"stranger_{secrets.token_hex(3)}", "h", "clinician", [])
    data = {"given_name": "A", "family_name": "B", "birth_date": "1980-01-01", "sex": "male"}
    with pytest.raises(PermissionError):
        create_patient(session, world.clinic_id, data, stranger.id)
    with pytest.raises(PermissionError):
        create_episode(session, world.patient_id, {"complaint": "x", "opened_on": "2026-01-01"},
                       stranger.id)
    with pytest.raises(NotFound):
        create_patient(session, 10**9, data, world.user_id)
    with pytest.raises(NotFound):
        create_episode(session, 10**9, {"complaint": "x", "opened_on": "2026-01-01"},
                       world.user_id)


def test_episode_form_is_validated(session: Session, world: World) -> None:
    with pytest.raises(RecordError) as raised:
        create_episode(session, world.patient_id, {"complaint": "", "opened_on": "2026-03-01",
                                                   "closed_on": "2026-02-01"}, world.user_id)
    assert {p for p, _ in raised.value.problems} == {"complaint"}
    with pytest.raises(RecordError, match="closed_on 2026-02-01 is before opened_on"):
        create_episode(session, world.patient_id, {"complaint": "pain",
                                                   "opened_on": "2026-03-01",
                                                   "closed_on": "2026-02-01"}, world.user_id)


def test_search_matches_every_word_case_insensitively(session: Session,
                                                      registry: World) -> None:
    clinics = [registry.clinic_id]
    assert names(search_patients(session, clinics, "smith", 1, 20, "family_name")[0]) == [
        "Smith", "Smithson"]
    assert names(search_patients(session, clinics, "pat SMITHSON", 1, 20, "family_name")[0]) == [
        "Smithson"]
    assert names(search_patients(session, clinics, "müller", 1, 20, "family_name")[0]) == [
        "Müller"]
    assert names(search_patients(session, clinics, "o'b", 1, 20, "family_name")[0]) == [
        "O'Brien"]


def test_search_treats_like_wildcards_as_text(session: Session, registry: World) -> None:
    clinics = [registry.clinic_id]
    assert names(search_patients(session, clinics, "100%_", 1, 20, "family_name")[0]) == [
        "100%_Real"]
    assert search_patients(session, clinics, "%", 1, 20, "family_name")[1] == 1
    assert search_patients(session, clinics, "_", 1, 20, "family_name")[1] == 1


def test_search_pages_and_sorts(session: Session, registry: World) -> None:
    clinics = [registry.clinic_id]
    page1, total = search_patients(session, clinics, "pat", 1, 3, "family_name")
    page3, _ = search_patients(session, clinics, "pat", 3, 3, "family_name")
    assert total == 8 and len(page1) == 3 and len(page3) == 2
    assert names(page1) == ["100%_Real", "Adams", "Müller"]
    everyone = search_patients(session, clinics, "pat", 1, 20, "family_name")[0]
    assert names(everyone) == names(sorted(everyone, key=lambda p: p.family_name))
    backwards = search_patients(session, clinics, "pat", 1, 20, "-family_name")[0]
    assert names(backwards) == names(everyone)[::-1]
    by_birth = search_patients(session, clinics, "pat", 1, 20, "birth_date")[0]
    assert names(by_birth) == FAMILIES
    newest = search_patients(session, clinics, "pat", 1, 20, "-created_at")[0]
    oldest = search_patients(session, clinics, "pat", 1, 20, "created_at")[0]
    assert [p.id for p in newest] == [p.id for p in oldest][::-1]


def test_search_rejects_unknown_sorts_and_pages(session: Session, world: World) -> None:
    with pytest.raises(RecordError) as raised:
        search_patients(session, [world.clinic_id], None, 0, 500, "given_name; DROP TABLE")
    assert [p for p, _ in raised.value.problems] == ["sort", "page", "per_page"]


def test_search_stays_inside_the_clinics_asked_for(session: Session, registry: World) -> None:
    other = make_other_clinic(session)
    user = get_user_by_username(session, f"clinician_{other}")
    assert user is not None
    visible = [m.clinic_id for m in user.memberships]
    assert registry.clinic_id not in visible and len(visible) == 1
    patients, total = search_patients(session, visible, None, 1, 50, "family_name")
    assert total == 1 and names(patients) == ["Elsewhere"]
    assert get_patient(session, registry.patient_id) is not None
    episode = get_episode(session, registry.episode_id)
    assert episode is not None and episode.patient_id == registry.patient_id
    assert get_patient(session, 10**9) is None and get_episode(session, 10**9) is None


def make_other_clinic(session: Session) -> str:
    tag = secrets.token_hex(3)
    clinic = create_clinic(session, f"Elsewhere {tag}")
    user = create_user(session, f"clinician_{tag}", "h", "clinician", [clinic.id])
    create_patient(session, clinic.id, {"given_name": "Other", "family_name": "Elsewhere",
                                        "birth_date": "1990-01-01", "sex": "male"}, user.id)
    session.commit()
    return tag


def test_users_are_unique_case_insensitively(session: Session, world: World) -> None:
    tag = secrets.token_hex(3)
    user = create_user(session, f" Dr_{tag} ", "$argon2id$x", "clinician", [world.clinic_id])
    assert user.username == f"dr_{tag}" and user.password_hash == "$argon2id$x"
    assert get_user_by_username(session, f"DR_{tag}") is user
    assert [m.clinic_id for m in user.memberships] == [world.clinic_id]
    with pytest.raises(RecordError, match="is taken"):
        create_user(session, f"dr_{tag}", "h", "clinician", [])
    with pytest.raises(RecordError, match="no clinic with id"):
        create_user(session, f"new_{tag}", "h", "clinician", [10**9])
    with pytest.raises(RecordError) as raised:
        create_user(session, "x y", "", "Chief Doctor", [])
    assert {p for p, _ in raised.value.problems} == {"username", "password_hash", "role"}


def test_clinic_names_are_unique(session: Session, world: World) -> None:
    tag = secrets.token_hex(3)
    create_clinic(session, f"North {tag}")
    with pytest.raises(RecordError, match="already exists"):
        create_clinic(session, f" North {tag} ")
    with pytest.raises(RecordError, match="name"):
        create_clinic(session, "   ")
