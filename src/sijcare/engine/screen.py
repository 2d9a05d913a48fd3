"""The public self-screen: `self_screen(answers) -> ScreenResult`, pure like `assess`.

It never diagnoses. It says whether the answers fit SI-joint pain (the patient-reportable part
of the Kurosawa score), which answers point elsewhere, and what to do next; a warning sign
stops everything else, so urgent care is said first and alone. A warning sign the person is
not sure about (other than the emergency ones) lets the screen run but puts a call to a
doctor or nurse line before any booking (rule 1b, v3).
"""

from __future__ import annotations

from sijcare.engine.facts import add_months
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge, ScreenFlag, load_knowledge
from sijcare.model.assessment import Reason
from sijcare.model.screen import ScreenAnswers, ScreenResult


def _listed(words: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _sources(kb: Knowledge, rule: str, questions: list[ScreenFlag]) -> list[str]:
    """The rule's own sources, then those of the case red flags the questions stand for."""
    by_id = {flag.id: flag for flag in kb.screening.red_flags}
    flagged = (s for q in questions for flag in q.case_flags for s in by_id[flag].sources)
    return list(dict.fromkeys([*kb.screen.sources[rule], *flagged]))


def _urgent(answers: ScreenAnswers, kb: Knowledge) -> ScreenResult | None:
    """Rule 1: any `yes`, or `unsure` on an emergency question, means urgent care."""
    given = answers.red_flags.model_dump()
    emergency = [q for q in kb.screen.red_flags if q.emergency and given[q.id] != "no"]
    urgent = [q for q in kb.screen.red_flags if given[q.id] == "yes" or q in emergency]
    if not urgent:
        return None
    shown = emergency or urgent
    text = kb.screen.texts["emergency" if emergency else "urgent"]
    reason = because("screen_urgent_care", text.format(areas=_listed([q.words for q in shown])),
                     _sources(kb, "emergency", shown),
                     answers={q.id: given[q.id] for q in urgent})
    return ScreenResult(result="seek_urgent_care", emergency=bool(emergency),
                        next_step="urgent_care", reasons=[reason])


def _call_first(answers: ScreenAnswers, kb: Knowledge) -> Reason | None:
    """Rule 1b: a warning sign other than the emergency ones answered `unsure` means calling a
    doctor or a nurse line today, before booking; the reason names each such question."""
    given = answers.red_flags.model_dump()
    unsure = [q for q in kb.screen.red_flags if not q.emergency and given[q.id] == "unsure"]
    if not unsure:
        return None
    text = kb.screen.texts["call_doctor"].format(areas=_listed([q.words for q in unsure]))
    return because("unsure_red_flag", text, _sources(kb, "unsure_red_flag", unsure),
                   answers={q.id: "unsure" for q in unsure})


def _score(answers: ScreenAnswers, kb: Knowledge) -> tuple[int, int, int]:
    """(self score, points only an examination can add, cut-off) from the Kurosawa items."""
    kurosawa = kb.examination.kurosawa
    points = {item.id: item.points for item in kurosawa.items}
    mine = kb.screen.self_score_items
    score = sum(points[item] for answer, item in mine.items()
                if getattr(answers, answer) == "yes")
    exam = sum(p for item, p in points.items() if item not in mine.values())
    return score, exam, kurosawa.cutoff


def duration_months(answers: ScreenAnswers) -> int | float:
    """As given, or the whole calendar months from `pain_started` to `answered_on`."""
    if answers.duration_months is not None:
        return answers.duration_months
    start, end = answers.pain_started, answers.answered_on
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if add_months(start, months) > end else months


def _months_words(months: int | float) -> str:
    if months < 1:
        return "less than a month"
    return "1 month" if months == 1 else f"{months:g} months"


def _other_sources(answers: ScreenAnswers) -> list[str]:
    """Answers pointing elsewhere; an area left out of a given pain map counts as 0 %."""
    found = []
    if answers.below_knee == "yes" and answers.foot_numbness_or_tingling == "yes":
        found.append("nerve_root")
    areas = answers.pain_areas
    if areas and (areas.axial_low_back or 0) > (areas.sij_region or 0):
        found.append("lumbar_spine")
    return found


def self_screen(answers: ScreenAnswers, knowledge: Knowledge | None = None) -> ScreenResult:
    """Screen one person's answers; the rules of ENGINE-RULES v2 and v3, in their order."""
    kb = knowledge or load_knowledge()
    urgent = _urgent(answers, kb)
    if urgent is not None:
        return urgent
    texts, sources = kb.screen.texts, kb.screen.sources
    score, exam, cutoff = _score(answers, kb)
    if score >= cutoff:
        result = "fits_sij"
    elif score + exam >= cutoff:
        result = "exam_decides"
    else:
        result = "unlikely_sij"
    others = _other_sources(answers)
    months = duration_months(answers)
    recent = months < 3
    call_first = _call_first(answers, kb)
    if call_first is not None:
        next_step, step_reason = "call_doctor", call_first
    else:
        next_step = "appointment" if result != "unlikely_sij" or others else "primary_care"
        step_reason = because(f"screen_{next_step}", texts[next_step], [])
    pointers = {p.id: p for p in kb.screen.other_sources}
    reasons = [
        because(f"screen_{result}",
                texts[result].format(score=score, cutoff=cutoff, exam=exam),
                sources["self_score"], self_score=score, exam_points_possible=exam,
                cutoff=cutoff),
        *(because(f"screen_{p}", pointers[p].text, pointers[p].sources) for p in others),
        because("screen_duration", texts["recent" if recent else "lasting"].format(
            months=_months_words(months)), sources["duration"], duration_months=months),
        step_reason,
    ]
    return ScreenResult(result=result, self_score=score, exam_points_possible=exam,
                        other_sources=others, duration_months=months, recent=recent,
                        next_step=next_step, reasons=reasons)
