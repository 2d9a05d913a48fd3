"""The patient's course over time for the episode page: pain NRS and ODI by date, procedures
on the time axis, the minimal important change band from baseline, and the treatment courses.

Drawn on the server by matplotlib (no pyplot state) as SVG, served by its own request
(`/episodes/{id}/course-chart.svg`) so the page's text arrives without waiting for the
drawing, with a one-sentence text alternative and the same numbers as a table on the page.
Margins are fixed and text stays text: matplotlib's constrained layout and glyph outlines
cost more than the rest of the page together.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from sijcare.instruments.odi import score_odi
from sijcare.knowledge import load_knowledge
from sijcare.model.assessment import Assessment
from sijcare.store import TimelineEntry

Point = tuple[dt.date, float]


@dataclass(frozen=True)
class Series:
    """One instrument's scores over time and the level its baseline must fall to (MCID)."""

    name: str
    top: float
    points: tuple[Point, ...]
    mcid_level: float | None  # at or below this the change is a minimal important change

    @property
    def baseline(self) -> float | None:
        return self.points[0][1] if self.points else None


@dataclass(frozen=True)
class Row:
    date: dt.date
    nrs: float | None
    odi: float | None
    procedures: str


@dataclass(frozen=True)
class CourseChart:
    alt: str
    summary: str
    rows: list[Row]
    nrs: Series
    odi: Series
    procedures: tuple[tuple[dt.date, str], ...]
    spans: tuple[tuple[str, dt.date, dt.date], ...]  # treatment courses shaded on the chart

    @property
    def height(self) -> int:
        """The drawing's height in pixels (96 per inch), so the page keeps its place."""
        return round(_inches(self) * DPI)

    @property
    def narrow_height(self) -> int:
        return round(_inches(self, NARROW) * DPI)

    def svg(self, narrow: bool = False) -> bytes:
        """The drawing, `narrow` for phones (the same text size on a 390 px screen)."""
        return _svg(self.nrs, self.odi, self.procedures, self.spans,
                    NARROW if narrow else WIDTH)


def _mcid_level(baseline: float, points: float, percent: float) -> float:
    """MCID (`instruments.odi.mcid_reached`) is a fall of `points` or of `percent` of the
    baseline, whichever is smaller; the band runs from that level up to the baseline."""
    return baseline - min(points, baseline * percent / 100)


def _known(entry: TimelineEntry, as_of: dt.date) -> bool:
    return (entry.recorded_on <= as_of and entry.date <= as_of
            and (entry.voided_on is None or as_of < entry.voided_on))


def _series(name: str, top: float, points: list[Point], mcid: Any) -> Series:
    points.sort()
    level = _mcid_level(points[0][1], mcid.points, mcid.percent) if points else None
    return Series(name, top, tuple(points), level)


def course_chart(timeline: list[TimelineEntry], as_of: dt.date,
                 assessment: Assessment | None) -> CourseChart | None:
    """The chart of the episode as known on `as_of`; None when no NRS or ODI was recorded."""
    kb = load_knowledge()
    entries = [e for e in timeline if _known(e, as_of)]
    nrs: list[Point] = []
    odi: list[Point] = []
    for e in entries:
        if e.kind == "prom" and e.data.get("instrument") == "nrs":
            nrs.append((e.date, float(e.data["value"])))
        elif e.kind == "prom" and e.data.get("instrument") == "odi":
            score = score_odi(list(e.data["answers"]), kb.outcomes.odi).score
            if score is not None:
                odi.append((e.date, score))
    if not nrs and not odi:
        return None
    procedures = sorted((e.date, e.data["kind"]) for e in entries
                        if e.kind == "procedure" and "kind" in e.data)  # not "none given"
    courses = assessment.courses if assessment is not None else None
    nrs_series = _series("Pain NRS", 10, nrs, kb.outcomes.nrs.mcid)
    odi_series = _series("ODI", 100, odi, kb.outcomes.odi.mcid)
    return CourseChart(_alt(nrs_series, odi_series, procedures),
                       _summary(nrs_series, odi_series), _rows(nrs, odi, procedures),
                       nrs_series, odi_series, tuple(procedures), _course_spans(courses))


def _course_spans(courses: Any) -> tuple[tuple[str, dt.date, dt.date], ...]:
    """Regenerative series (first to last injection) and the RFA's repeat-from date."""
    if courses is None:
        return ()
    spans = [(f"{c.kind} series ({c.injections})", c.series_started, c.last)
             for c in courses.regenerative]
    if courses.rfa is not None:
        spans.append(("RFA: repeat from", courses.rfa.repeat_from, courses.rfa.repeat_from))
    return tuple(spans)


def _alt(nrs: Series, odi: Series, procedures: list[tuple[dt.date, str]]) -> str:
    parts = []
    for series, unit in ((nrs, "of 10"), (odi, "%")):
        if series.points:
            (first_day, first), (last_day, last) = series.points[0], series.points[-1]
            parts.append(f"{series.name} from {first:g} {unit} on {first_day} to {last:g} "
                         f"{unit} on {last_day} ({len(series.points)} entries)")
    marks = f"; {len(procedures)} procedure(s) marked" if procedures else ""
    return "Chart: " + "; ".join(parts) + marks + ". The data table follows."


def _summary(nrs: Series, odi: Series) -> str:
    notes = []
    for series in (nrs, odi):
        if series.mcid_level is not None and len(series.points) > 1:
            reached = series.points[-1][1] <= series.mcid_level
            notes.append(f"{series.name}: the minimal important change from baseline "
                         f"{series.baseline:g} means {series.mcid_level:g} or lower; "
                         f"{'reached' if reached else 'not reached'} at the latest entry.")
    return " ".join(notes) or "One entry so far: the change is measured from the next one."


def _rows(nrs: list[Point], odi: list[Point],
          procedures: list[tuple[dt.date, str]]) -> list[Row]:
    days = sorted({d for d, _ in nrs} | {d for d, _ in odi} | {d for d, _ in procedures})
    by_nrs, by_odi = dict(nrs), dict(odi)
    return [Row(day, by_nrs.get(day), by_odi.get(day),
                ", ".join(k.replace("_", " ") for d, k in procedures if d == day))
            for day in days]


DPI = 96
WIDTH, NARROW = 7.5, 4.0  # inches: the figure on a desktop, on a phone (384 px)
PANEL, MARGIN = 2.2, 0.6  # inches: each panel, the axis labels below
LEFT, RIGHT, TOP, GAP = 0.8, 0.15, 0.15, 0.35  # inches around and between the panels
LEGEND_ROW = 0.22  # inches per line of the legend, below the panels (never over the curves)


def _legend(spans: tuple[tuple[str, dt.date, dt.date], ...],
            procedures: tuple[tuple[dt.date, str], ...]) -> list[tuple[str, dict[str, Any]]]:
    """(label, patch or line style) of everything drawn besides the curve, in drawing order."""
    entries = [("change smaller than the MCID", {"color": BAND, "alpha": BAND_ALPHA})]
    entries += [(label, {"color": SPAN, "alpha": SPAN_ALPHA}) for label, start, end in spans
                if start != end]
    if any(start == end for _, start, end in spans):
        entries.append(("RFA: may repeat from", {"color": "#6a3d9a", "linestyle": ":"}))
    if procedures:
        entries.append(("procedure", {"color": "#444444", "linestyle": "--"}))
    return entries


def _inches(chart: CourseChart, width: float = WIDTH) -> float:
    panels = sum(1 for s in (chart.nrs, chart.odi) if s.points)
    rows = _legend_rows(len(_legend(chart.spans, chart.procedures)), width)
    return PANEL * panels + MARGIN + LEGEND_ROW * rows


def _legend_rows(entries: int, width: float) -> int:
    return -(-entries // (3 if width >= WIDTH else 1))


BAND, BAND_ALPHA = "#cfe3f1", 0.45  # light enough that the curve and its points stay clear
SPAN, SPAN_ALPHA = "#fde3b8", 0.35


def _svg(nrs: Series, odi: Series, procedures: tuple[tuple[dt.date, str], ...],
         spans: tuple[tuple[str, dt.date, dt.date], ...], width: float) -> bytes:
    # matplotlib is imported where drawn: it costs a second at every server start-up
    from matplotlib import rc_context
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shown = [s for s in (nrs, odi) if s.points]
    legend = _legend(spans, procedures)
    rows = _legend_rows(len(legend), width)
    bottom = MARGIN + LEGEND_ROW * rows
    height = PANEL * len(shown) + bottom
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    figure.subplots_adjust(left=LEFT / width, right=1 - RIGHT / width, top=1 - TOP / height,
                           bottom=(bottom - TOP) / height, hspace=GAP / PANEL)
    for ax, series in zip(axes, shown, strict=True):
        days, values = zip(*series.points, strict=True)
        if series.mcid_level is not None and series.baseline is not None:
            ax.axhspan(series.mcid_level, series.baseline, color=BAND, alpha=BAND_ALPHA,
                       linewidth=0)
        for _, start, end in spans:
            if start == end:
                ax.axvline(start, color="#6a3d9a", linestyle=":", linewidth=1.2)
            else:
                ax.axvspan(start, end, color=SPAN, alpha=SPAN_ALPHA, linewidth=0)
        for day, kind in procedures:
            ax.axvline(day, color="#444444", linestyle="--", linewidth=1)
            if ax is axes[0]:
                ax.annotate(kind.replace("_", " "), (day, series.top), fontsize=7,
                            rotation=90, va="top", ha="right")
        ax.plot(days, values, marker="o", color="#1f4e79", linewidth=2, zorder=3)
        ax.set_ylim(0, series.top)
        ax.set_ylabel(series.name)
        ax.grid(axis="y", color="#dddddd")
    locator = AutoDateLocator(maxticks=4) if width < WIDTH else AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
    handles = [Line2D([], [], linewidth=1.2, **style) if "linestyle" in style
               else Patch(**style) for _, style in legend]
    figure.legend(handles, [label for label, _ in legend], fontsize=8,
                  loc="lower left", bbox_to_anchor=(LEFT / width, 0.02),
                  ncol=3 if width >= WIDTH else 1, frameon=False)
    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "none"}):  # text as text: smaller, and drawn faster
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
