"""The self-check's questions in plain words, one label per answer code; the staff inbox
shows stored answers with the same words."""

from __future__ import annotations

from typing import Any

RED_FLAG_QUESTIONS: dict[str, str] = {
    "saddle_numbness": "Is there numbness between your legs or around your back passage "
                       "(where you would sit on a saddle)?",
    "bladder_or_bowel_change": "Have you had new trouble passing or holding urine or stool?",
    "leg_weakness_worsening": "Is one of your legs getting weaker?",
    "fever_or_unwell": "Do you have a fever, or feel generally unwell?",
    "cancer_history": "Have you ever had cancer?",
    "unexplained_weight_loss": "Are you losing weight without trying?",
    "major_fall_or_accident": "Did the pain start after a bad fall or an accident?",
    "weak_immune_system": "Is your immune system weak (from medicines, a transplant or HIV), "
                          "or do you inject drugs into a vein?",
    "fall_with_thin_bones": "Did the pain start after a small fall or lifting something, while "
                            "you have thin bones (osteoporosis) or take steroid tablets?",
}
PAIN_QUESTIONS: dict[str, str] = {
    "points_one_finger_near_psis": "Point with one finger to where it hurts most. Is it the "
                                   "spot just beside the dimple at the top of your buttock?",
    "groin_pain": "Do you have pain in your groin?",
    "worse_sitting_on_chair": "Is the pain worse when you sit on a chair?",
    "below_knee": "Does the pain go below your knee?",
    "foot_numbness_or_tingling": "Do you have numbness or tingling in your foot?",
}
UNSURE_ALLOWED = frozenset({*RED_FLAG_QUESTIONS, "points_one_finger_near_psis"})
ANSWER_WORDS = {"yes": "Yes", "no": "No", "unsure": "Not sure"}
AREAS: dict[str, str] = {
    "axial_low_back": "Middle of the low back, over the spine",
    "sij_region": "Beside the dimples at the top of the buttocks (over the SI joints)",
    "buttock_leg": "Buttock and back of the leg",
    "groin_anterior_thigh": "Groin and front of the thigh",
}
TRIED: dict[str, str] = {
    "physical_therapy": "Physical therapy", "home_exercise": "Exercises at home",
    "nsaid": "Anti-inflammatory pain medicine (such as ibuprofen)",
    "chiropractic": "Chiropractic or manipulation", "sij_belt": "A pelvic (SI) belt",
    "acupuncture": "Acupuncture", "weight_loss": "Losing weight",
}


def answers_in_words(answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(question, answer) pairs of stored self-check answers, for the clinic's staff."""
    rows = [(RED_FLAG_QUESTIONS[k], ANSWER_WORDS.get(v, str(v)))
            for k, v in (answers.get("red_flags") or {}).items() if k in RED_FLAG_QUESTIONS]
    if answers.get("pain_started"):
        rows.append(("When did the pain start?", str(answers["pain_started"])))
    if answers.get("duration_months") is not None:
        rows.append(("How many months has the pain lasted?", f"{answers['duration_months']:g}"))
    for key, label in AREAS.items():
        if answers.get("pain_areas") and key in answers["pain_areas"]:
            rows.append((f"Share of the pain: {label}", f"{answers['pain_areas'][key]:g}%"))
    rows += [(q, ANSWER_WORDS.get(answers[k], str(answers[k])))
             for k, q in PAIN_QUESTIONS.items() if k in answers]
    if answers.get("tried") is not None:
        rows.append(("Already tried", ", ".join(TRIED.get(t, t) for t in answers["tried"])
                     or "Nothing yet"))
    return rows
