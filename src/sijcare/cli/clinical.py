"""Clinical commands: assess a case, score a questionnaire, browse and explain the knowledge."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console

from sijcare import __version__
from sijcare.cli.base import app, echo_json, fail
from sijcare.engine import assess
from sijcare.engine.screen import self_screen
from sijcare.explain import find
from sijcare.instruments.odi import score_odi
from sijcare.knowledge import load_knowledge, short_citation
from sijcare.model import CaseError, load_case
from sijcare.model.loading import read_data
from sijcare.model.screen import parse_screen
from sijcare.reports.screen import render_screen
from sijcare.reports.text import render_plain, render_rich

knowledge_app = typer.Typer(help="Browse the cited knowledge base.", no_args_is_help=False,
                            invoke_without_command=True)
score_app = typer.Typer(help="Score questionnaires.", no_args_is_help=True)
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(score_app, name="score")


class Format(StrEnum):
    json = "json"
    text = "text"


def _policies() -> list[str]:
    return sorted(load_knowledge().policies)


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False
         ) -> None:
    if version:
        typer.echo(f"sijcare {__version__} (knowledge {load_knowledge().version})")
        raise typer.Exit()


@app.command("assess")
def assess_command(
    case: Annotated[str, typer.Argument(help="Case file (.yaml or .json), or - for stdin.")],
    policy: Annotated[str, typer.Option(help="Policy profile: medicare or clinic.")] = "medicare",
    prior: Annotated[float | None, typer.Option(
        help="Pre-test probability of SI-joint pain (0-1, exclusive); default: the policy's.")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="json or text.")] = Format.json,
) -> None:
    """Assess one case: stage, likelihood, block, eligibility, alerts and outcomes."""
    if policy not in _policies():
        fail(f"--policy: unknown policy '{policy}'; choose one of: {', '.join(_policies())}")
    if prior is not None and not 0 < prior < 1:
        fail(f"--prior: must be a probability strictly between 0 and 1, got {prior:g}")
    stdin_text = sys.stdin.read() if case == "-" else None
    try:
        loaded = load_case(case, stdin_text)
    except CaseError as error:
        fail(*error.problems)
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{case}: cannot read the file ({error.__class__.__name__})")
    assessment = assess(loaded, policy=policy, prior=prior)
    if output is Format.json:
        typer.echo(assessment.model_dump_json(indent=2))
    elif sys.stdout.isatty():
        render_rich(assessment, load_knowledge(), Console())
    else:
        typer.echo(render_plain(assessment, load_knowledge()), nl=False)


@app.command("screen")
def screen_command(
    answers: Annotated[str, typer.Argument(
        help="Self-screen answers (.yaml or .json), or - for stdin.")],
    output: Annotated[Format, typer.Option("--format", help="json or text.")] = Format.json,
) -> None:
    """The public self-screen: whether the answers fit SI-joint pain, and what to do next."""
    stdin_text = sys.stdin.read() if answers == "-" else None
    try:
        loaded = parse_screen(read_data(answers, stdin_text, noun="answers"))
    except CaseError as error:
        fail(*error.problems)
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{answers}: cannot read the file ({error.__class__.__name__})")
    result = self_screen(loaded)
    if output is Format.json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(render_screen(result, load_knowledge()), nl=False)


@score_app.command("odi")
def score_odi_command(
    answers: Annotated[list[str], typer.Argument(
        help="The 10 section answers, 0-5 each; '-' for an unanswered section.")],
) -> None:
    """Score an Oswestry Disability Index (v2.1a); prints JSON."""
    rule = load_knowledge().outcomes.odi
    if len(answers) != rule.sections:
        fail(f"answers: the ODI has {rule.sections} sections, got {len(answers)} answers")
    # each answer as written: '²'.isdigit() is true, and int() reads other scripts' digits
    allowed = {str(answer): answer for answer in range(rule.max_per_section + 1)}
    parsed: list[int | None] = []
    for i, raw in enumerate(answers):  # counted from 0, like the case format's field paths
        if raw == "-":
            parsed.append(None)
        elif raw in allowed:
            parsed.append(allowed[raw])
        else:
            fail(f"answers[{i}]: '{raw}' is not 0-{rule.max_per_section} or '-'")
    result = score_odi(parsed, rule)
    echo_json({"instrument": "odi", "score": result.score, "band": result.band,
          "answered": result.answered, "sources": rule.sources})


@knowledge_app.callback()
def knowledge_overview(ctx: typer.Context) -> None:
    """Without a subcommand: what the knowledge base holds."""
    if ctx.invoked_subcommand:
        return
    kb = load_knowledge()
    typer.echo(f"knowledge {kb.version}")
    typer.echo(f"  tests:     {len(kb.examination.provocation_tests)} provocation tests, "
               f"{len(kb.examination.clusters)} cluster(s), Fortin finger test, Kurosawa score")
    typer.echo(f"  policies:  {', '.join(kb.policies)}")
    typer.echo(f"  evidence:  {len(kb.evidence.treatments)} treatments, "
               f"{sum(len(t.studies) for t in kb.evidence.treatments)} studies")
    typer.echo(f"  sources:   {len(kb.sources)}")
    typer.echo("Use: sijcare knowledge tests | policies [ID] | sources [ID] | evidence [ID]")


@knowledge_app.command("tests")
def knowledge_tests() -> None:
    """Provocation tests with their accuracy, and the cluster rule."""
    kb = load_knowledge()
    for t in kb.examination.provocation_tests:
        accuracy = (f"Sn {t.sensitivity:.0%} Sp {t.specificity:.0%} LR+ {t.lr_positive:g} "
                    f"LR- {t.lr_negative:g}" if t.sensitivity is not None else "accuracy n/a")
        typer.echo(f"{t.id:15} {t.name}: {accuracy} [{', '.join(t.sources)}]\n"
                   f"{'':15} {t.how}")
    for c in kb.examination.clusters:
        typer.echo(f"{c.id}: {c.min_positive} of {len(c.tests)} positive; LR+ {c.lr_positive:g}, "
                   f"LR- {c.lr_negative:g} [{', '.join(c.sources)}]")
    typer.echo(f"{kb.examination.fortin_finger.id}: {kb.examination.fortin_finger.how}")
    k = kb.examination.kurosawa
    typer.echo(f"{k.id}: positive at {k.cutoff}+ of 9: "
               + "; ".join(f"{i.text} ({i.points})" for i in k.items))


def _list_or_show(items: Mapping[str, BaseModel], wanted: str | None,
                  line: Callable[[Any], str], unknown: str) -> None:
    """What `knowledge policies` and `knowledge sources` share: a line per item, or the one
    asked for in full (bad input if there is none)."""
    if wanted is None:
        for item in items.values():
            typer.echo(line(item))
        return
    if wanted not in items:
        fail(unknown)
    echo_json(items[wanted].model_dump())


@knowledge_app.command("policies")
def knowledge_policies(
    policy_id: Annotated[str | None, typer.Argument(help="Show one policy in full.")] = None,
) -> None:
    """List policies, or show one with every option and criterion."""
    policies = load_knowledge().policies
    _list_or_show(
        policies, policy_id,
        lambda p: f"{p.id:10} {p.name} (block threshold {p.block_threshold:g}%)",
        f"policy: unknown policy '{policy_id}'; choose one of: {', '.join(sorted(policies))}")


@knowledge_app.command("sources")
def knowledge_sources(
    source_id: Annotated[str | None, typer.Argument(help="Show one source in full.")] = None,
) -> None:
    """The bibliography, with each source's firmness."""
    _list_or_show(
        load_knowledge().sources, source_id,
        lambda s: f"{s.id:28} {short_citation(s):22} {s.firmness}",
        f"source: no source '{source_id}'; list them with: sijcare knowledge sources")


@knowledge_app.command("evidence")
def knowledge_evidence(
    treatment: Annotated[str | None, typer.Argument(
        help="A treatment id (its studies as one JSON object), or the start of ids "
             "(`rfa`: a JSON list of every match).")] = None,
) -> None:
    """The evidence table per treatment; advocacy claims are marked as such."""
    kb = load_knowledge()
    treatments = {t.id: t for t in kb.evidence.treatments}
    if treatment is None:
        for t in treatments.values():
            typer.echo(f"{t.id:18} {t.name}: {len(t.studies)} studies, "
                       f"{len(t.guideline_positions)} guideline positions")
        return
    if treatment in treatments:
        echo_json(treatments[treatment].model_dump())
        return
    matches = [t.model_dump() for t in treatments.values() if t.id.startswith(treatment)]
    if not matches:
        fail(f"treatment: unknown '{treatment}'; choose one of: {', '.join(treatments)}")
    echo_json(matches)


@app.command("explain")
def explain_command(
    rule_id: Annotated[str, typer.Argument(help="A rule id as printed in reasons[].rule.")],
) -> None:
    """Explain a rule: what it says, its parameters and its sources."""
    kb = load_knowledge()
    rules = find(kb, rule_id)
    if not rules:
        fail(f"rule: no rule '{rule_id}'; rule ids appear in an assessment's reasons[].rule")
    for rule in rules:
        typer.echo(f"{rule.id} ({rule.kind})\n  {rule.text}")
        for key, value in rule.details.items():
            typer.echo(f"  {key}: {value}")
        for sid in rule.sources:
            s = kb.sources[sid]
            tag = "" if s.firmness == "verified" else f" ({s.firmness}: provisional)"
            typer.echo(f"  source [{sid}] {s.citation}{tag}")
