"""The pain pattern: clinic diagnostic clues and the Kurosawa score, each from recorded facts."""

from __future__ import annotations

from collections.abc import Callable

from sijcare.engine.facts import Facts
from sijcare.engine.memo import shared
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge
from sijcare.model.assessment import Clue, KurosawaScore, PainPattern
from sijcare.model.case import Case

Reader = Callable[[Case], bool | None]


def _history(case: Case, field: str) -> object:
    return getattr(case.history, field) if case.history else None


def _exam(case: Case, field: str) -> object:
    return getattr(case.exam, field) if case.exam else None


def _tender(case: Case, site: str) -> bool | None:
    tenderness = _exam(case, "tenderness")
    return getattr(tenderness, site) if tenderness else None


def _listed(case: Case, field: str, wanted: set[str]) -> bool | None:
    values = _history(case, field)
    return None if values is None else bool(wanted & set(values))


def _all_known(*values: bool | None) -> bool | None:
    """Three-valued AND: any false wins, then any unknown."""
    if False in values:
        return False
    return None if None in values else True


def _off_midline_below_l5(case: Case) -> bool | None:
    areas = _history(case, "pain_areas")
    regional = None if areas is None or (areas.sij_region is None and areas.buttock_leg is None) \
        else bool((areas.sij_region or 0) + (areas.buttock_leg or 0))
    below_knee = _history(case, "below_knee")
    return _all_known(_history(case, "below_l5"), regional,
                      None if below_knee is None else not below_knee)


def _no_numbness(case: Case) -> bool | None:
    deficit = _exam(case, "neuro_deficit")
    return None if deficit is None else not deficit


def _groin(case: Case) -> bool | None:
    areas = _history(case, "pain_areas")
    share = areas.groin_anterior_thigh if areas else None
    return None if share is None else share > 0


def _thigh_thrust(case: Case) -> bool | None:
    provocation = _exam(case, "provocation")
    result = provocation.thigh_thrust if provocation else None
    return None if result is None else result == "positive"


CLUES: dict[str, Reader] = {
    "points_to_joint": lambda c: _history(c, "fortin_finger"),
    "off_midline_below_l5_not_past_knee": _off_midline_below_l5,
    "worse_sitting_or_rising": lambda c: _listed(c, "aggravating", {"sitting", "sit_to_stand"}),
    "eased_lying_supported": lambda c: _listed(
        c, "relieving", {"lying_knees_bent", "side_lying_pillow"}),
    "no_true_numbness": _no_numbness,
}

KUROSAWA_ITEMS: dict[str, Reader] = {
    "one_finger_psis": lambda c: _history(c, "fortin_finger"),
    "groin_pain": _groin,
    "sitting_pain": lambda c: _listed(c, "aggravating", {"sitting"}),
    "shear_test": _thigh_thrust,
    "psis_tenderness": lambda c: _tender(c, "psis"),
    "sacrotuberous_tenderness": lambda c: _tender(c, "sacrotuberous_ligament"),
}


def _status(value: bool | None) -> str:
    return {True: "present", False: "absent", None: "unknown"}[value]


def _kurosawa(kb: Knowledge, values: tuple[bool | None, ...]) -> KurosawaScore:
    """Known items' points: positive at the cut-off, negative only if unknowns cannot reach it."""
    rule = kb.examination.kurosawa
    items = {item.id: value for item, value in zip(rule.items, values, strict=True)}
    points = {item.id: item.points for item in rule.items}
    score = sum(points[i] for i, v in items.items() if v)
    reachable = score + sum(points[i] for i, v in items.items() if v is None)
    if score >= rule.cutoff:
        result = "positive"
    elif reachable < rule.cutoff:
        result = "negative"
    else:
        result = "incomplete"
    return KurosawaScore(
        score=score, max_possible=reachable, cutoff=rule.cutoff, result=result,
        items={i: (None if v is None else points[i] * v) for i, v in items.items()})


def pain_pattern(f: Facts) -> PainPattern:
    case, kb = f.case, f.kb
    return _pattern(kb, tuple(CLUES[c.id](case) for c in kb.examination.pain_clues),
                    tuple(KUROSAWA_ITEMS[i.id](case) for i in kb.examination.kurosawa.items))


@shared(maxsize=4096)
def _pattern(kb: Knowledge, clue_values: tuple[bool | None, ...],
             item_values: tuple[bool | None, ...]) -> PainPattern:
    """The pattern follows from the clue and score-item values alone, so equal ones are shared."""
    statuses = [_status(v) for v in clue_values]
    clues = [Clue(id=c.id, status=status, text=c.text)
             for c, status in zip(kb.examination.pain_clues, statuses, strict=True)]
    reasons = [because(f"pain_clue.{c.id}", f"{c.text}: {status}.", c.sources)
               for c, status in zip(kb.examination.pain_clues, statuses, strict=True)]
    score = _kurosawa(kb, item_values)
    rule = kb.examination.kurosawa
    reasons.append(because(
        rule.id,
        f"Kurosawa score {score.score} of {sum(i.points for i in rule.items)} (up to "
        f"{score.max_possible} with unrecorded items); "
        f"cut-off {rule.cutoff} (Sn {rule.sensitivity:.0%}, Sp {rule.specificity:.0%}): "
        f"{score.result}.",
        rule.sources, items=score.items))
    present = statuses.count("present")
    return PainPattern(clues=clues, clues_present=present,
                       clues_unknown=statuses.count("unknown"), kurosawa=score, reasons=reasons)
