"""Possible duplicates of a patient about to be registered: the same person registered twice
splits their history, so registration shows them first.

A candidate is a patient of the same clinic with the same clinic number, or with the same date
of birth and a close name: given and family names each compared by RapidFuzz's token-set
ratio, their mean at or above `CLOSE_NAME` (typos, accents left out, a second given name and
swapped names are forgiven; another given name is not).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sijcare.store.models import Patient

CLOSE_NAME = 80  # of 100: "Ada North"/"Ada Norton" 86, "Jon"/"John Smith" 93, "Maria-Luisa"/
# "Maria Garcia" 81 are close; "Ada North"/"Bea North" 67 is not (born the same day, a sister)


def _plain(name: str) -> str:
    """Lower case, accents off: "Müller" and "Muller" are the same name typed twice."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_closeness(given: str, family: str, other_given: str, other_family: str) -> float:
    """0-100: the mean closeness of the given names and of the family names (each a token-set
    ratio, so a second given name is forgiven), or of the two swapped, whichever is closer."""
    g, f, og, of = map(_plain, (given, family, other_given, other_family))
    return max((fuzz.token_set_ratio(g, og) + fuzz.token_set_ratio(f, of)) / 2,
               (fuzz.token_set_ratio(g, of) + fuzz.token_set_ratio(f, og)) / 2)


def possible_duplicates(session: Session, clinic_id: int, given_name: str, family_name: str,
                        birth_date: dt.date | None, external_id: str | None = None,
                        *, besides: int | None = None) -> list[Patient]:
    """The clinic's patients who may be this person, closest first (`besides`: not this one)."""
    same = [Patient.birth_date == birth_date] if birth_date else []
    if external_id:
        same.append(Patient.external_id == external_id)
    if not same:
        return []
    rows = session.scalars(select(Patient).where(
        Patient.clinic_id == clinic_id, or_(*same),
        Patient.id != (besides or 0)))
    scored = [(100.0 if external_id and p.external_id == external_id
               else name_closeness(given_name, family_name, p.given_name, p.family_name), p)
              for p in rows]
    return [p for score, p in sorted(scored, key=lambda s: (-s[0], s[1].id))
            if score >= CLOSE_NAME]
