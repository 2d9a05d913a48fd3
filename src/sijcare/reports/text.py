"""The clinician's text report of an `Assessment`: plain lines, or Rich layout on a terminal.

The content is built once as sections of rows; the two renderers only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from sijcare.engine.provocation_count import count_provocation
from sijcare.knowledge import Knowledge, load_knowledge, short_citation
from sijcare.labels import inline, label, words
from sijcare.model.assessment import Assessment
from sijcare.stops import checklist_key, read_first, safety_stops, stopped_because

STATUS_MARK = {"met": "met", "not_met": "NOT MET", "unknown": "unknown",
               "not_covered": "not covered"}


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    table: tuple[list[str], list[list[str]]] | None = None


def _cited(sources: list[str]) -> str:
    """Sources as their short citations (`[Laslett 2005; NGS FAQ]`), as every page cites them."""
    known = load_knowledge().sources
    shown = (short_citation(known[s]) if s in known else s for s in dict.fromkeys(sources))
    return f" [{'; '.join(shown)}]" if sources else ""


URGENT = "After the urgent work-up"


def sections(a: Assessment, kb: Knowledge) -> list[Section]:
    """The report's content, in reading order.

    With a red flag the urgent referral stands alone at the top; everything else follows under
    "After the urgent work-up", so nothing routine reads as the next step.
    """
    stage = next(s for s in kb.pathway.stages if s.id == a.stage)
    head = Section(f"Stage: {stage.name}",
                   [words(r.text) + _cited(r.sources) for r in a.stage_reasons])
    urgent = [r for r in a.referrals if r.action == "urgent"]
    if not a.red_flags:
        return [head, *_routine(a, kb, a.referrals, a.alerts)]
    head.lines += [f"Red flag: {label(f.id)} - {words(f.reasons[0].text)}"
                   + _cited(f.reasons[0].sources) for f in a.red_flags if f.reasons]
    head.lines += [f"Refer now: {label(r.id)} ({inline(r.action)}) - {words(r.reasons[0].text)}"
                   + _cited(r.reasons[0].sources) for r in urgent]
    head.lines += [f"{alert.severity.upper()} {label(alert.id)}: {words(alert.detail)}"
                   + _cited(alert.sources)
                   for alert in a.alerts if alert.id == "red_flag"]
    later = _routine(a, kb, [r for r in a.referrals if r.action != "urgent"],
                     [alert for alert in a.alerts if alert.id != "red_flag"])
    for section in later[:-1]:  # the source list stays a plain appendix
        section.title = f"{URGENT}: {section.title}"
    notice = Section(URGENT, ["Not the next step: the findings below are for after the red "
                              "flag(s) have been worked up."])
    return [head, notice, *later]


def _routine(a: Assessment, kb: Knowledge, referrals: list, alerts: list) -> list[Section]:
    """Work-up, referrals, options, alerts, outcomes and sources."""
    chance, cluster = a.sij_likelihood, a.sij_likelihood.cluster
    pooled = chance.pooled
    out = [Section("Work-up", [
        f"Provocation cluster: {inline(cluster.result)} "
        f"({count_provocation(cluster.tests.values()).words}); probability {chance.prior:.0%} -> "
        f"{chance.posterior:.1%} (LR {chance.likelihood_ratio:g})"
        + (f"; with the pooled cluster ratio of {short_citation(kb.sources[pooled.source])} "
           f"(LR {pooled.likelihood_ratio:g}): {pooled.posterior:.1%}"
           if pooled and cluster.result != "incomplete" else "")
        + _cited(chance.reasons[0].sources),
        _block_line(a) + _cited(a.block.reasons[0].sources),
        _pattern_line(a),
        "Red flags: " + (", ".join(label(f.id) for f in a.red_flags) or _no_flags(a)),
        "Differential: " + (", ".join(f"{label(d.id)} ({', '.join(map(inline, d.support))})"
                                      for d in a.differential) or "nothing pointing elsewhere"),
    ])]

    if referrals:
        out.append(Section("Referrals", [
            f"{label(r.id)}: {inline(r.action)} - {words(r.reasons[0].text)}"
            + _cited(r.reasons[0].sources)
            for r in referrals]))

    rows = []
    first = read_first(alerts) or read_first(a.alerts)
    for option in a.eligibility.values():
        counts = {s: sum(c.status == s for c in option.criteria) for s in ("met", "not_met",
                                                                            "unknown")}
        stops = safety_stops(option)
        unmet = [c.text for c in option.criteria if c.status == "not_met" and c not in stops]
        mark = STATUS_MARK[option.status]
        if option.status == "met" and first:  # never a bare "met" beside a blocking alert
            mark = "met, REVIEW FIRST: " + ", ".join(inline(x.id) for x in first)
        rows.append([option.name, mark + (" (SAFETY STOP)" if stops else ""),
                     f"{counts['met']}/{counts['not_met']}/{counts['unknown']}",
                     "; ".join(filter(None, (stopped_because(option), *unmet)))
                     or " ".join(words(m) for m in option.missing) or "-"])
    options = Section(f"Options under policy {a.policy}",
                      table=(["option", "status", "met/not/unknown", "document next or unmet"],
                             rows))
    for option in a.eligibility.values():
        for c in sorted(option.criteria, key=lambda c: checklist_key(c.status, c.safety)):
            mark = f"pending ({words(c.pending)})" if c.pending else STATUS_MARK[c.status]
            if c.status == "not_met" and c.safety:
                mark += " (SAFETY STOP)"
            options.lines.append(f"{option.name} / {c.text}: {mark} - {words(c.detail)}"
                                 + _cited(c.sources))
        for line in option.evidence:
            options.lines.append(f"{option.name} / evidence ({line.strength}): "
                                 f"{words(line.position)}"
                                 + _cited([line.source]))
    out.append(options)

    out.append(Section("Alerts", [
        f"{alert.severity.upper()} {label(alert.id)}: {words(alert.detail)}"
        + _cited(alert.sources) for alert in alerts] or ["none"]))
    out.append(Section("Outcomes", _outcome_lines(a, kb) or ["no questionnaires recorded"]))

    out.append(Section("Sources", [
        f"{short_citation(kb.sources[sid])}: {kb.sources[sid].citation}"
        + ("" if kb.sources[sid].firmness == "verified" else
           f" ({kb.sources[sid].firmness}; rules built on it are provisional)")
        for sid in cited_sources(a)]))
    return out


def _no_flags(a: Assessment) -> str:
    """"none" only when the screen was recorded; the engine's criterion says which."""
    screened = [c.status for o in a.eligibility.values() for c in o.criteria
                if c.id == "no_red_flags"]
    return "not recorded" if not screened or "unknown" in screened else "none"


def _block_line(a: Assessment) -> str:
    block = a.block
    result = "no counted block" if block.result == "none" else inline(block.result)
    if not block.date:
        return f"Diagnostic block: {result}"
    where = ", ".join(inline(w) for w in (block.side, block.target) if w)
    return (f"Diagnostic block: {result}, {block.relief_percent:g}% relief on {block.date}"
            + (f" ({where})" if where else "") + f" (threshold {block.threshold:g}%)")


def _pattern_line(a: Assessment) -> str:
    """Clue counts that never read an unrecorded clue as absent."""
    pattern = a.pain_pattern
    count = {s: sum(c.status == s for c in pattern.clues) for s in ("present", "absent",
                                                                     "unknown")}
    total = len(pattern.clues)
    if count["unknown"] == total:
        clues = f"clues not recorded ({total} of {total} unknown)"
    else:
        clues = (f"{count['present']} of {total} clues present, {count['absent']} absent, "
                 f"{count['unknown']} unknown")
    kuro = pattern.kurosawa
    return (f"Pain pattern: {clues}; Kurosawa score {kuro.score}/9 ({inline(kuro.result)}, cut-off "
            f"{kuro.cutoff})")


def _outcome_lines(a: Assessment, kb: Knowledge) -> list[str]:
    lines = []
    if a.outcomes.odi:
        odi = a.outcomes.odi
        score = f"{odi.score:g} ({inline(odi.band)})" if odi.score is not None else "not scored"
        lines.append(f"ODI {score} on {odi.date}, {odi.answered} of 10 sections answered" + (
            f"; baseline {odi.baseline:g}, change {odi.change:+g}, MCID "
            f"{'reached' if odi.mcid_reached else 'not reached'}"
            if odi.change is not None else ""))
    if a.outcomes.nrs:
        nrs = a.outcomes.nrs
        lines.append(f"Pain NRS {nrs.value:g} on {nrs.date}" + (
            f"; baseline {nrs.baseline:g}, change {nrs.change:+g}, MCID "
            f"{'reached' if nrs.mcid_reached else 'not reached'}"
            if nrs.change is not None else ""))
    if a.outcomes.pgic:
        pgic = a.outcomes.pgic
        lines.append(f"PGIC {pgic.value} on {pgic.date}: "
                     f"{'responder' if pgic.responder else 'not a responder'} (responder at "
                     f"{kb.outcomes.pgic.responder_at_most} or less)")
    return lines


def cited_sources(a: Assessment) -> list[str]:
    """Every source id the assessment cites, in first-cited order."""
    found: dict[str, None] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "sources" and isinstance(value, list):
                    found.update(dict.fromkeys(value))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(a.model_dump(mode="json"))
    return list(found)


def header(a: Assessment) -> list[str]:
    return [f"sijcare assessment: patient {a.patient_id}, as of {a.as_of}, policy {a.policy}, "
            f"knowledge {a.knowledge_version}", a.disclaimer]


def render_plain(a: Assessment, kb: Knowledge) -> str:
    lines = header(a)
    for section in sections(a, kb):
        lines += ["", section.title, "-" * len(section.title)]
        if section.table:
            heads, rows = section.table
            widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]
            for row in [heads, *rows]:
                lines.append("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths,
                                                                              strict=True)).rstrip())
            lines.append("")
        lines += [f"  {line}" for line in section.lines]
    return "\n".join(lines) + "\n"


def render_rich(a: Assessment, kb: Knowledge, console: Console) -> None:
    for line in header(a):
        console.print(line, style="bold" if line.startswith("sijcare") else "dim")
    for section in sections(a, kb):
        console.rule(section.title)
        if section.table:
            heads, rows = section.table
            table = Table(*heads)
            for row in rows:
                table.add_row(*row)
            console.print(table)
        for line in section.lines:
            console.print(f"  {line}", highlight=False, markup=False)
