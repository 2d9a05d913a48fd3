"""Printable reports, as HTML and as PDF (WeasyPrint): an episode, the registry, and a
prior-authorisation packet for one option.

Each builder gathers what the report shows, renders one Jinja template and lets WeasyPrint
lay it out, so the HTML and the PDF say the same. Pictures go in as PNG.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from sijcare import __version__, labels
from sijcare.analytics.charts import Chart, _figure
from sijcare.analytics.knowledge import load_codes
from sijcare.analytics.queries import Filters
from sijcare.analytics.view import registry_view
from sijcare.engine import assess
from sijcare.instruments.odi import score_odi
from sijcare.knowledge import load_knowledge, short_citation
from sijcare.model.loading import describe
from sijcare.reports.weasy import write_pdf
from sijcare.stops import (
    checklist_key,
    safety_facts,
    status_words,
    stopped_because,
    verdict,
)
from sijcare.store import load_episode_records, seal_intact
from sijcare.store.errors import NotFound
from sijcare.store.models import SignedAssessment, User

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)
TEMPLATES.globals.update(label=labels.label, words=labels.words, status_words=status_words)

# The records that document each kind of policy check, for the prior-authorisation packet.
CHECK_RECORDS = {
    "pain_duration": ("intake",), "location_below_l5": ("intake",),
    "no_radiculopathy": ("intake", "exam"), "imaging_excludes": ("imaging",),
    "provocation": ("exam",), "conservative_weeks": ("care_course",),
    "blocks_in_window": ("block",), "block_relief": ("block",),
    "steroid_sessions": ("procedure",), "steroid_tried": ("procedure",),
    "repeat_response": ("procedure", "procedure_outcome"), "no_red_flags": ("intake",),
    "fortin_point": ("intake", "exam"), "no_generalized_pain_disorder": ("intake",),
    "not_pregnant": ("intake",), "no_allergy": ("medications",),
    "repeat_interval": ("procedure", "procedure_outcome"),
    "regenerative_series_limit": ("procedure",),
    "anticoagulation_addressed": ("medications",), "two_concordant_blocks": ("block",),
    "regenerative_response": ("procedure", "procedure_outcome"),
    "ladder_failed": ("procedure", "procedure_outcome"), "no_prior_fusion": ("procedure",),
    "differential_clear": ("intake", "exam"), "pain_at_least": ("intake",),
}


@dataclass(frozen=True)
class Report:
    title: str
    html: str

    @property
    def pdf(self) -> bytes:
        return write_pdf(self.html)


def _render(name: str, title: str, **context: Any) -> Report:
    html = TEMPLATES.get_template(name).render(
        title=title, generated=dt.date.today(), version=__version__,
        disclaimer=load_knowledge().disclaimer, **context)
    return Report(title, html)


def _cited(ids: list[str]) -> str:
    sources = load_knowledge().sources
    return "; ".join(short_citation(sources[i]) for i in ids if i in sources)


# -- the registry ------------------------------------------------------------------------------


def registry_report(connection: Connection, filters: Filters, *, suppress: bool) -> Report:
    view = registry_view(connection, filters, suppress=suppress)
    return _render("registry.html", "Outcomes registry report", view=view, filters=filters)


# -- one episode ---------------------------------------------------------------------------------


def _scores_chart(points: dict[str, list[tuple[dt.date, float]]],
                  procedures: list[tuple[dt.date, str]]) -> Chart:
    figure, left = _figure(7, 3.2)
    right = left.twinx()
    for axes, instrument, colour, label in ((left, "nrs", "#1f5fa8", "NRS pain (0-10)"),
                                            (right, "odi", "#b3541e", "ODI (0-100)")):
        series = points.get(instrument, [])
        if series:
            axes.plot([d for d, _ in series], [v for _, v in series], marker="o", color=colour,
                      label=label)
        axes.set_ylabel(label, color=colour)
    left.set_ylim(0, 10.5)
    right.set_ylim(0, 105)
    for day, kind in procedures:
        left.axvline(day, color="#555555", linestyle="--", linewidth=0.8)
        left.annotate(labels.inline(kind), (day, 10.2), fontsize=7, rotation=90,
                      va="top", ha="right")
    figure.autofmt_xdate()
    alt = ("NRS and ODI over time" + (", procedures marked: " + ", ".join(
        f"{labels.inline(k)} on {d}" for d, k in procedures) if procedures else ""))
    return Chart(figure, alt)


def episode_report(session: Session, episode_id: int) -> Report:
    """The episode's timeline, its scores and chart, and its signed assessments with signers."""
    records = load_episode_records(session, episode_id)
    if records.episode is None:
        raise NotFound(f"no episode {episode_id}")
    episode = records.episode
    timeline = records.timeline()
    rule = load_knowledge().outcomes.odi
    scores: dict[str, list[tuple[dt.date, float]]] = {}
    rows = []
    # "none recorded" entries ({"none": true}) carry no score or procedure to chart
    counted = [e for e in timeline if not e.voided_on and e.data != {"none": True}]
    for entry in sorted(counted, key=lambda e: (e.date, e.id)):
        if entry.kind != "prom":
            continue
        data = entry.data
        value = (score_odi(data["answers"], rule).score if data["instrument"] == "odi"
                 else data["value"])
        if value is not None:
            scores.setdefault(data["instrument"], []).append((entry.date, float(value)))
            rows.append((entry.date, data["instrument"], value))
    procedures = [(e.date, e.data["kind"]) for e in counted if e.kind == "procedure"]
    signed = session.execute(
        select(SignedAssessment, User.username).join(User, User.id == SignedAssessment.signer_id)
        .where(SignedAssessment.episode_id == episode_id).order_by(SignedAssessment.signed_at)
    ).all()
    signatures = [{"as_of": s.as_of, "policy": s.policy, "stage": s.stage, "signer": name,
                   "signed_at": s.signed_at, "sha256": s.sha256, "intact": seal_intact(s)}
                  for s, name in signed]
    try:
        case = records.case_as_of(dt.date.today())
    except ValueError:  # records that make no valid case today: the episode page says why
        case = None
    return _render("episode.html", f"Episode report: {episode.complaint}", episode=episode,
                   facts=safety_facts(case) if case else None,
                   red_flags=bool(case and case.history and case.history.red_flags),
                   patient=episode.patient, timeline=timeline, scores=rows,
                   chart=_scores_chart(scores, procedures) if scores else None,
                   signatures=signatures, policy_names={
                       p.id: p.name for p in load_knowledge().policies.values()})


def signed_report(signed: SignedAssessment, patient: Any, signer: str, *,
                  addenda: Sequence[tuple[Any, bool, str]] = (),
                  letterhead: Any = None) -> Report:
    """A signed assessment as it was signed (the stored snapshot, not a new assessment), with
    its addenda (addendum, seal intact, signer's name) under it and the clinic's letterhead
    (name, address, phone) above it when given."""
    return _render("signed.html", "Signed assessment", signed=signed, patient=patient,
                   signer=signer, a=signed.assessment, intact=seal_intact(signed),
                   addenda=addenda, letterhead=letterhead)


# -- prior authorisation ---------------------------------------------------------------------------


def prior_auth_report(session: Session, episode_id: int, option: str, policy: str,
                      as_of: dt.date | None = None) -> Report:
    """The payer's criteria for `option`: status, the records behind each, what is missing,
    the evidence positions and the codes to name. ValueError for an unknown option/policy."""
    knowledge = load_knowledge()
    if policy not in knowledge.policies:
        raise ValueError(f"policy: no policy '{policy}' (known: "
                         f"{', '.join(sorted(knowledge.policies))})")
    rules = knowledge.policies[policy]
    known = [o.id for o in rules.options]
    if option not in known:
        raise ValueError(f"option: no option '{option}' in policy {policy} (known: "
                         f"{', '.join(known)})")
    records = load_episode_records(session, episode_id)
    if records.episode is None:
        raise NotFound(f"no episode {episode_id}")
    as_of = as_of or dt.date.today()
    try:
        case = records.case_as_of(as_of)
    except ValueError as error:  # records no valid case can hold: say which, in words
        problems = describe(error) if isinstance(error, ValidationError) else [str(error)]
        raise ValueError(f"the record cannot be assessed as of {as_of}: "
                         + "; ".join(labels.located(p) for p in problems)) from None
    assessment = assess(case, policy=policy)
    result = assessment.eligibility[option]
    checks = {c.id: c.check for c in rules.option(option).criteria}
    timeline = [e for e in records.timeline() if not e.voided_on and e.recorded_on <= as_of]
    criteria = [{"result": c, "cited": _cited(c.sources), "records": [
        e for e in timeline if e.kind in CHECK_RECORDS.get(checks.get(c.id, ""), ())]}
        for c in sorted(result.criteria, key=lambda c: checklist_key(c.status, c.safety))]
    codes = load_codes()
    option_codes = codes.for_option(option)
    treatments = {t.id: t for t in knowledge.evidence.treatments}
    positions = [(treatments[t].name, p, _cited([p.source]))
                 for t in (option_codes.treatments if option_codes else []) if t in treatments
                 for p in treatments[t].guideline_positions]
    episode = records.episode
    return _render("prior_auth.html", f"Prior authorisation: {result.name}",
                   episode=episode, patient=episode.patient, assessment=assessment,
                   option_id=option, result=result, criteria=criteria, policy=rules,
                   codes=option_codes, diagnoses=codes.diagnoses, positions=positions,
                   cited=_cited, as_of=as_of, verdict=verdict(option, assessment),
                   stopped=stopped_because(result), facts=safety_facts(case),
                   alerts=[a for a in assessment.alerts if a.severity != "info"])
