"""Hypothesis strategies for valid cases, with every optional field sometimes absent."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

AS_OF = date(2026, 11, 1)
TESTS = ["distraction", "thigh_thrust", "compression", "sacral_thrust", "gaenslen_left",
         "gaenslen_right", "faber", "yeoman"]
RED_FLAGS = ["saddle_anesthesia", "bladder_dysfunction", "bowel_dysfunction",
             "progressive_neuro_deficit", "fever", "immunosuppression", "iv_drug_use",
             "cancer_history", "unexplained_weight_loss", "major_trauma",
             "osteoporotic_fracture_risk"]
SPA = ["onset_before_35", "wakes_second_half_of_night", "buttock_pain", "improves_with_movement",
       "improves_with_nsaids_48h", "family_history_spa", "arthritis", "enthesitis", "psoriasis"]
SIDES = ["left", "right", "bilateral"]
TARGETS = ["intra_articular", "periarticular", "extra_articular", "lateral_branch"]
KINDS = ["steroid_injection", "prolotherapy", "prp", "rfa_conventional", "rfa_cooled",
         "mis_fusion"]


def day(back_days: int = 800) -> st.SearchStrategy[str]:
    return st.integers(0, back_days).map(lambda d: (AS_OF - timedelta(days=d)).isoformat())


def optional(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional=fields)


maybe_bool = st.booleans()
result = st.sampled_from(["positive", "negative"])

history = optional(
    pain_onset=day(1500), pain_nrs=st.integers(0, 10), side=st.sampled_from(SIDES),
    pain_areas=st.sampled_from([
        {"axial_low_back": 10, "sij_region": 60, "buttock_leg": 20, "groin_anterior_thigh": 10},
        {"axial_low_back": 100, "sij_region": 0}, {"sij_region": 100}]),
    below_l5=maybe_bool, below_knee=maybe_bool, fortin_finger=maybe_bool,
    aggravating=st.lists(st.sampled_from(["sitting", "sit_to_stand", "stairs"]), unique=True),
    relieving=st.lists(st.sampled_from(["lying_knees_bent", "side_lying_pillow"]), unique=True),
    red_flags=st.lists(st.sampled_from(RED_FLAGS), unique=True, max_size=2),
    spa_features=st.lists(st.sampled_from(SPA), unique=True),
    generalized_pain_disorder=maybe_bool,
)

course = day(600).flatmap(lambda start: st.fixed_dictionaries(
    {"type": st.sampled_from(["physical_therapy", "nsaid", "home_exercise"]),
     "start": st.just(start)},
    optional={"end": st.integers(0, 300).map(
        lambda n: min(date.fromisoformat(start) + timedelta(days=n), AS_OF).isoformat())}))

exam = optional(
    provocation=optional(**{t: result for t in TESTS}),
    tenderness=optional(psis=maybe_bool, sacrotuberous_ligament=maybe_bool,
                        sacral_sulcus=maybe_bool),
    straight_leg_raise=result, neuro_deficit=maybe_bool, hip_rotation_pain=maybe_bool,
)

imaging = st.fixed_dictionaries(
    {"date": day(), "modality": st.sampled_from(["xray", "ct", "mri"])},
    optional={"excludes_other_causes": maybe_bool})

block = st.fixed_dictionaries({
    "date": day(500), "guidance": st.sampled_from(["fluoroscopy", "ct", "ultrasound", "none"]),
    "pain_before": st.integers(1, 10), "pain_after": st.integers(0, 10)},
    optional={"side": st.sampled_from(SIDES), "target": st.sampled_from(TARGETS)})

def _weeks_since(date_text: str) -> int:
    """The longest relief a procedure of that date can have lasted (ENGINE-RULES v3)."""
    return (AS_OF - date.fromisoformat(date_text)).days // 7 + 1


procedure = day(500).flatmap(lambda when: st.fixed_dictionaries(
    {"date": st.just(when), "kind": st.sampled_from(KINDS)},
    optional={"side": st.sampled_from(SIDES), "relief_percent": st.integers(0, 100),
              "relief_weeks": st.integers(0, min(52, _weeks_since(when))),
              "relief_ongoing": maybe_bool,
              "guidance": st.sampled_from(["fluoroscopy", "ct", "ultrasound", "none"])}))

prom = st.one_of(
    st.fixed_dictionaries({"date": day(), "instrument": st.just("nrs"),
                           "value": st.integers(0, 10)}),
    st.fixed_dictionaries({"date": day(), "instrument": st.just("pgic"),
                           "value": st.integers(1, 7)}),
    st.fixed_dictionaries({"date": day(), "instrument": st.just("odi"), "answers": st.lists(
        st.one_of(st.none(), st.integers(0, 5)), min_size=10, max_size=10)}))

cases = st.fixed_dictionaries(
    {"as_of": st.just(AS_OF.isoformat()),
     "patient": st.fixed_dictionaries({"id": st.just("h-1")}, optional={
         "birth_date": st.integers(18 * 365, 90 * 365).map(
             lambda d: (AS_OF - timedelta(days=d)).isoformat()),
         "sex": st.sampled_from(["female", "other", "unknown"]),
         "pregnant": maybe_bool})},
    optional={
        "history": history,
        "conservative_care": st.lists(course, max_size=3),
        "exam": exam,
        "imaging": st.lists(imaging, max_size=2),
        "blocks": st.lists(block, max_size=3),
        "procedures": st.lists(procedure, max_size=4),
        "medications": optional(anticoagulant=maybe_bool, anticoagulant_plan=maybe_bool),
        "allergies": st.lists(st.sampled_from(["contrast", "local_anesthetic", "corticosteroid",
                                               "latex"]), unique=True),
        "proms": st.lists(prom, max_size=3),
    })
