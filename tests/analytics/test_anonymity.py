"""k-anonymity of the export's quasi-identifiers, on populations of every shape: each published
combination is shared by at least K patients, and what is published is true, only coarser."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from sijcare.analytics.anonymity import LADDER, K, Person, age_band, generalise

PEOPLE = st.lists(st.tuples(
    st.booleans(), st.sampled_from(["a", "b", "c"]), st.sampled_from(["female", "male"]),
    st.integers(18, 99), st.sampled_from([None, "prp", "rfa_cooled", "mis_fusion"]),
    st.sampled_from([None, "left", "right", "bilateral"])), max_size=120)


def people_of(rows: list[tuple]) -> list[Person]:
    return [Person(i, synthetic, clinic, sex, age, kind, side if kind else None)
            for i, (synthetic, clinic, sex, age, kind, side) in enumerate(rows)]


@settings(max_examples=150, deadline=None)
@given(PEOPLE)
def test_every_published_combination_is_shared_by_k(rows: list[tuple]) -> None:
    people = people_of(rows)
    shown = generalise(people)
    classes = Counter(shown[p.id].key(p) for p in people if p.id in shown)
    assert all(n >= K for n in classes.values())
    for person in people:
        if person.id in shown:
            published = shown[person.id]
            assert published.clinic in (None, person.clinic) and published.sex in (None,
                                                                                   person.sex)
            assert published.kind in (None, person.kind) and published.side in (None,
                                                                                person.side)
            assert published.age_group in {age_band(person.age, s.age_years) for s in LADDER}
    # only a kind of patient (real or synthetic, with or without a procedure) too rare for K
    # is left out
    kinds = Counter((p.synthetic, p.kind is not None) for p in people)
    assert all(kinds[p.synthetic, p.kind is not None] < K for p in people if p.id not in shown)


def test_common_combinations_keep_every_value_and_rare_ones_are_taken_in() -> None:
    common = people_of([(True, "a", "female", 42, "prp", "left")] * 5
                       + [(True, "a", "male", 70, "prp", "right")] * 5)
    shown = generalise(common)
    assert [(p.sex, p.age_group, p.side) for p in shown.values()] == (
        [("female", "40-44", "left")] * 5 + [("male", "70-74", "right")] * 5)
    rare = people_of([(True, "a", "female", 42, "prp", "left")] * 5
                     + [(True, "a", "male", 70, "prp", "right")] * 4)
    shown = generalise(rare)  # four alone on their side: nine share the kind, no side
    assert len(shown) == 9 and {(p.kind, p.side, p.sex) for p in shown.values()} == {
        ("prp", None, None)}
