"""Registry pictures with matplotlib (no display): SVG for pages, PNG for PDFs.

Every chart has a text alternative (`alt`) and the page or report prints its numbers as a
table too, so nothing is only in a picture. A chart draws what the figures it is given hold:
for a researcher those are the suppressed figures, so a withheld share, mean or curve is
simply not there (no bar, no point, no legend entry).
"""

from __future__ import annotations

import base64
import io
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where drawn: matplotlib costs a second at every start-up
    from matplotlib.figure import Figure

from sijcare.analytics.knowledge import DAYS_PER_MONTH, load_registry
from sijcare.analytics.registry import RegistryFigures

KIND_NAMES = {"steroid_injection": "Steroid injection", "prolotherapy": "Prolotherapy",
              "prp": "PRP", "rfa_conventional": "RFA (conventional)",
              "rfa_cooled": "RFA (cooled)", "mis_fusion": "MIS fusion"}
COLOURS = dict(zip(KIND_NAMES, ("#1f5fa8", "#b3541e", "#5b8c2a", "#7b3fa0", "#0f7c7c",
                                "#8a6d00"), strict=True))


class Chart:
    """A figure drawn once and saved on first use: pages want SVG, PDFs PNG."""

    def __init__(self, figure: Figure, alt: str) -> None:
        self.figure, self.alt = figure, alt

    @cached_property
    def svg(self) -> str:
        out = io.StringIO()
        self.figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
        text = out.getvalue()
        return text[text.index("<svg"):]

    @cached_property
    def png(self) -> bytes:
        out = io.BytesIO()
        self.figure.savefig(out, format="png", dpi=150, bbox_inches="tight")
        return out.getvalue()

    @property
    def svg_uri(self) -> str:
        """The SVG as an image URI: its own styles apply there, under a strict page CSP."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()

    @property
    def png_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


def _figure(width: float, height: float) -> tuple[Figure, object]:
    """A figure outside pyplot's global registry: nothing to close, safe across threads."""
    from matplotlib.figure import Figure  # drawn with Agg; pyplot (and its global state) unused

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def durability_chart(figures: RegistryFigures) -> Chart:
    """Kaplan-Meier curves of lasting relief per treatment, with their 95% bands."""
    figure, axes = _figure(7, 4)
    described = []
    for kind, treatment in figures.treatments.items():
        survival = treatment.durability
        if not survival or survival.withheld:
            continue
        months = [0.0, *(d / DAYS_PER_MONTH for d in survival.days)]
        colour = COLOURS.get(kind, "#444444")
        axes.step(months, [1.0, *survival.relieved], where="post", color=colour,
                  linewidth=2, zorder=3, label=f"{KIND_NAMES.get(kind, kind)} (n={survival.n})")
        # light bands with a dotted edge: overlapping bands stay apart, the curves on top
        axes.fill_between(months, [1.0, *survival.low], [1.0, *survival.high], step="post",
                          color=colour, alpha=0.07, linewidth=0)
        for edge in (survival.low, survival.high):
            axes.step(months, [1.0, *edge], where="post", color=colour, linewidth=0.6,
                      linestyle=":", alpha=0.8)
        median = (f"median {survival.median / DAYS_PER_MONTH:.1f} months"
                  if survival.median is not None else "median beyond the follow-up shown"
                  if survival.truncated else "median not reached")
        described.append(f"{KIND_NAMES.get(kind, kind)}: {median}")
    axes.set_xlabel("Months after the procedure")
    axes.set_ylabel("Share still relieved (at least 50%)")
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    if described:  # below the plot, never over the curves (the saved figure grows to hold it)
        axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2,
                    frameon=False)
    alt = ("Kaplan-Meier curves of how long relief lasted after each kind of procedure. "
           + ("; ".join(described) if described else "No follow-up data yet."))
    return Chart(figure, alt)


def responder_chart(figures: RegistryFigures, definition: str = "relief_50") -> Chart:
    """Responders per treatment and point with Wilson 95% intervals."""
    points = [p.id for p in load_registry().points]
    kinds = [kind for kind, treatment in figures.treatments.items() if not treatment.withheld]
    figure, axes = _figure(8, 4)
    width = 0.8 / max(1, len(kinds))
    for i, kind in enumerate(kinds):
        xs, ys, low, high = [], [], [], []
        for j, point in enumerate(points):
            found = figures.treatments[kind].at(point)
            share = found.responders[definition] if found else None
            if share is None or share.share is None:
                continue
            xs.append(j + (i - (len(kinds) - 1) / 2) * width)
            ys.append(share.share)
            low.append(share.share - share.low)
            high.append(share.high - share.share)
        axes.bar(xs, ys, width=width, color=COLOURS.get(kind, "#444444"),
                 yerr=[low, high], capsize=2, label=KIND_NAMES.get(kind, kind))
    axes.set_xticks(range(len(points)), points)
    axes.set_xlabel("Follow-up point")
    axes.set_ylabel("Responders (95% CI)")
    axes.set_ylim(0, 1.05)
    axes.grid(axis="y", alpha=0.3)
    if kinds:
        axes.legend(fontsize=7, ncols=3, loc="upper right")
    text = next((d.text for d in load_registry().definitions if d.id == definition), definition)
    return Chart(figure, f"Bar chart of responders ({text}) per treatment at each follow-up "
                          "point, with 95% intervals; the table below gives the numbers.")


def change_chart(figures: RegistryFigures, measure: str) -> Chart:
    """Mean change in NRS or ODI per point and treatment, with 95% intervals."""
    points = [p.id for p in load_registry().points]
    figure, axes = _figure(7, 4)
    for kind, treatment in figures.treatments.items():
        xs, ys, errors = [], [], []
        for j, point in enumerate(points):
            found = treatment.at(point)
            change = getattr(found, f"{measure}_change") if found else None
            if change is None or change.mean is None or change.low is None:
                continue
            xs.append(j)
            ys.append(change.mean)
            errors.append(change.mean - change.low)
        if xs:
            axes.errorbar(xs, ys, yerr=errors, marker="o", capsize=3,
                          color=COLOURS.get(kind, "#444444"), label=KIND_NAMES.get(kind, kind))
    axes.axhline(0, color="#888888", linewidth=0.8)
    axes.set_xticks(range(len(points)), points)
    axes.set_xlabel("Follow-up point")
    name = "NRS pain (0-10)" if measure == "nrs" else "ODI (0-100)"
    axes.set_ylabel(f"Mean change in {name}")
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:  # a cohort with no pairs yet has no lines
        axes.legend(fontsize=7)
    return Chart(figure, f"Mean change in {name} from baseline at each follow-up point per "
                          "treatment, with 95% intervals (negative is better).")
