"""The rule catalogue behind `sijcare explain`: every rule id an assessment can cite."""

from __future__ import annotations

from dataclasses import dataclass, field

from sijcare.knowledge import Knowledge


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    text: str
    sources: list[str]
    details: dict[str, object] = field(default_factory=dict)


def catalogue(kb: Knowledge) -> dict[str, Rule]:
    """Rule id -> rule, from the knowledge base (ids as they appear in `reasons[].rule`)."""
    rules: list[Rule] = []
    for stage in kb.pathway.stages:
        rules.append(Rule(f"stage.{stage.id}", "stage", f"{stage.name}: {stage.text}",
                          stage.sources))
    for item in kb.pathway.differential:
        rules.append(Rule(f"differential.{item.id}", "differential", item.text, item.sources))
    for cluster in kb.examination.clusters:
        pooled = cluster.pooled
        rules.append(Rule(cluster.id, "cluster", cluster.note,
                          cluster.sources + ([pooled.source] if pooled else []), {
            "tests": cluster.tests, "min_positive": cluster.min_positive,
            "sensitivity": cluster.sensitivity, "specificity": cluster.specificity,
            "lr_positive": cluster.lr_positive, "lr_negative": cluster.lr_negative,
            **({"pooled": f"LR+ {pooled.lr_positive:g}, LR- {pooled.lr_negative:g} "
                          f"({pooled.source})"} if pooled else {})}))
    for test in kb.examination.provocation_tests:
        rules.append(Rule(test.id, "provocation test",
                          " ".join(t for t in (f"{test.name}. {test.how}", test.note) if t),
                          test.sources, {
            "sensitivity": test.sensitivity, "specificity": test.specificity,
            "lr_positive": test.lr_positive, "lr_negative": test.lr_negative,
            **({"computed from Sn/Sp": ", ".join(test.computed)} if test.computed else {})}))
    kuro = kb.examination.kurosawa
    rules.append(Rule(kuro.id, "score", f"{kuro.name}, positive at {kuro.cutoff} or more.",
                      kuro.sources, {i.id: f"{i.points} points: {i.text}" for i in kuro.items}))
    for clue in kb.examination.pain_clues:
        rules.append(Rule(f"pain_clue.{clue.id}", "pain clue", clue.text, clue.sources))
    for flag in kb.screening.red_flags:
        rules.append(Rule(f"red_flag.{flag.id}", "red flag",
                          f"{flag.name}: may signal {flag.condition}; referral {flag.referral}.",
                          flag.sources))
    for ref in kb.screening.referrals:
        rules.append(Rule(f"referral.{ref.id}", "referral", ref.text, ref.sources,
                          {"action": ref.action}))
    spa = kb.screening.spondyloarthritis
    rules.append(Rule(spa.id, "referral rule",
                      f"Back pain begun before {spa.onset_age_below} and lasting over "
                      f"{spa.duration_months_over} months: {spa.refer_at}+ features refer to "
                      f"rheumatology, exactly {spa.test_hla_b27_at} test HLA-B27.",
                      spa.sources, {"features": spa.features}))
    rules.append(Rule("block_interpretation", "block",
                      "Latest image-guided block: confirmed at the policy threshold, equivocal "
                      f"from {kb.pathway.block_equivocal_floor:g}%, negative below.",
                      kb.pathway.sources["block_equivocal_floor"],
                      {p.id: f"threshold {p.block_threshold:g}%" for p in kb.policies.values()}))
    lasting = kb.pathway.lasting_relief
    rules.append(Rule(
        "ladder", "pathway",
        "Surgical evaluation needs every lower rung the policy covers tried under image "
        "guidance since this pain began without lasting relief (the most recent under "
        f"{lasting.percent:g}%, or under {lasting.weeks:g} weeks with relief over"
        + ("; provisional" if lasting.provisional else "") + "), and no procedure of any kind "
        "still helping.",
        kb.pathway.sources["ladder"] + kb.pathway.sources["lasting_relief"],
        {rung.option: ", ".join(rung.kinds) for rung in kb.pathway.ladder}))
    rules.append(Rule(
        "option_stopped", "pathway",
        "When the option a stage points to (diagnostic block, fusion) cannot go ahead, the "
        "stage's reasons name each criterion that stops it or is still to document, with "
        "that criterion's sources.", []))
    rules.append(Rule("prior_fusion", "pathway", kb.pathway.prior_fusion.text,
                      kb.pathway.prior_fusion.sources))
    for policy in kb.policies.values():
        for option in policy.options:
            rules.append(Rule(
                f"eligibility.{policy.id}.{option.id}", "option",
                f"{option.name} under {policy.name}: "
                + ("criteria: " + ", ".join(c.id for c in option.criteria)
                   if option.covered else "not covered."),
                option.sources))
            for c in option.criteria:
                rules.append(Rule(
                    f"{policy.id}.{option.id}.{c.id}", "criterion",
                    ("Provisional. " if c.provisional else "") + c.text, c.sources,
                    {"check": c.check, **c.params}))
    for alert_id in type(kb.safety).model_fields:
        limit = getattr(kb.safety, alert_id)
        details = limit.model_dump(exclude={"sources", "text"}, exclude_none=True)
        text = limit.text or alert_id.replace("_", " ").capitalize() + " limit."
        rules.append(Rule(alert_id, "alert", text, limit.sources, details))
    rules += _course_rules(kb) + _screen_rules(kb)
    return {rule.id: rule for rule in rules}


def _course_rules(kb: Knowledge) -> list[Rule]:
    """Treatment courses, their alerts and the follow-up schedule."""
    regenerative, rfa = kb.courses.regenerative, kb.courses.rfa
    rules = [
        Rule("regenerative_series", "course",
             f"A gap of more than {regenerative.series_gap_days} days between injections of one "
             "kind starts a new series; a series is active until that long after its last "
             "injection.", regenerative.sources,
             regenerative.model_dump(exclude={"sources"})),
        Rule("rfa_repeat", "course",
             f"A repeat ablation is considered from {rfa.repeat_after_days} days after the last.",
             rfa.sources, rfa.model_dump(exclude={"sources"})),
    ]
    for alert_id, alert in kb.courses.alerts.items():
        rules.append(Rule(alert_id, "alert", ("Provisional. " if alert.provisional else "")
                          + alert.text, alert.sources,
                          alert.model_dump(exclude={"sources", "text"}, exclude_none=True)))
    for point in kb.follow_up.points:
        rules.append(Rule(f"follow_up.{point.point}", "follow-up point",
                          f"{', '.join(point.instruments)} around the {point.point} point after "
                          f"the {point.anchor.replace('_', ' ')}.", point.sources,
                          point.model_dump(exclude={"sources"}, exclude_none=True)))
    return rules


def _screen_rules(kb: Knowledge) -> list[Rule]:
    """The self-screen's reasons, in the words the public reads."""
    texts, sources = kb.screen.texts, kb.screen.sources
    rules = [Rule("screen_urgent_care", "self-screen", texts["emergency"], sources["emergency"]),
             Rule("unsure_red_flag", "self-screen", texts["call_doctor"],
                  sources["unsure_red_flag"]),
             Rule("screen_duration", "self-screen", texts["lasting"], sources["duration"])]
    rules += [Rule(f"screen_{result}", "self-screen", texts[result], sources["self_score"])
              for result in ("fits_sij", "exam_decides", "unlikely_sij")]
    rules += [Rule(f"screen_{p.id}", "self-screen", p.text, p.sources)
              for p in kb.screen.other_sources]
    rules += [Rule(f"screen_{step}", "self-screen", texts[step], [])
              for step in ("appointment", "primary_care")]
    return rules


def find(kb: Knowledge, rule_id: str) -> list[Rule]:
    """Exact id first; else every rule whose id ends with it (criteria across policies)."""
    rules = catalogue(kb)
    if rule_id in rules:
        return [rules[rule_id]]
    return [r for r in rules.values() if r.id.endswith(f".{rule_id}")]
