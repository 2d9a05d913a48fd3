"""An independent reading of ENGINE-RULES version 3 ("safety before availability").

Written from the rules' text alone (ENGINE-RULES.md, v1 + v2 + "Version 3 additions" with
its clarifications), without the engine's helpers, for tests/test_vignettes_v3.py. It decides,
for one case and one policy: whether the case is invalid (the v3 invalid inputs), the stage
(the nine v3 rules), the block result, every criterion of every option and each option's
status, every alert (id and severity), `courses` (v2 fields plus `series_injections`), and
whether the `option_stopped` / `prior_fusion` reasons must be present.

Readings of points the text leaves open are marked `READING:` below and listed in OPEN_POINTS.
Cases on which two readings of an open point differ are reported by `ambiguous()`; the random
comparison skips them (the hand-written vignettes stay off them too).

The self-screen v3 rules are not covered here.
"""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from tests.conftest import make

CLUSTER_TESTS = ("distraction", "thigh_thrust", "compression", "sacral_thrust",
                 "gaenslen_left", "gaenslen_right")
ALL_TESTS = (*CLUSTER_TESTS, "faber", "yeoman")
INJECTION_TESTS = ("faber", "gaenslen", "thigh_thrust", "compression", "distraction", "yeoman")
FUSION_TESTS = ("gaenslen", "faber", "compression", "distraction", "thigh_thrust")
GUIDED_BLOCK = ("fluoroscopy", "ct", "ultrasound")
REGEN = ("prolotherapy", "prp")
ABLATION = ("rfa_conventional", "rfa_cooled")
KINDS = ("steroid_injection", "prolotherapy", "prp", "rfa_conventional", "rfa_cooled",
         "mis_fusion")
EMERGENCY_FLAGS = ("saddle_anesthesia", "bladder_dysfunction", "bowel_dysfunction",
                   "progressive_neuro_deficit")
OTHER_FLAGS = ("fever", "immunosuppression", "iv_drug_use", "cancer_history",
               "unexplained_weight_loss", "major_trauma", "osteoporotic_fracture_risk")
SPA = ("onset_before_35", "wakes_second_half_of_night", "buttock_pain", "improves_with_movement",
       "improves_with_nsaids_48h", "family_history_spa", "arthritis", "enthesitis", "psoriasis")
OPTIONS = ("diagnostic_sij_injection", "therapeutic_sij_injection", "sij_rfa",
           "regenerative_injection", "mis_sij_fusion")
FUSION_BLOCK_THRESHOLD = 75  # "75 in both shipped policies"

OPEN_POINTS = [
    "pain_6_months (and every 'at least n calendar months'): onset + n calendar months <= as_of"
    " (the v1 definition of 'at least 3 months'), so onset 2026-05-31 is 6 months before"
    " 2026-11-30.",
    "pain_3_months and the NG65 'more than 3 months' read pain_duration_months as given when"
    " there is no pain_onset (v1); every other onset rule uses as_of - duration months (v3).",
    "Age at onset with only `age` recorded: known only to within a year; cases where NG65's"
    " 'before 45' depends on that year are not generated.",
    "Maintenance, rungs, repeat responses and courses.rfa read 'the most recent' procedure;"
    " same-date procedures that would answer differently are not generated (as in v2).",
    "Bilateral complaint: per side, the two most recent IA dates among blocks of that side,"
    " bilateral or without side; a side-less block among them makes the result unknown (the"
    " non-bilateral reading). Cases where ignoring side-less blocks would answer differently"
    " are not generated.",
    "Prior fusion 'on the complaint side': the v2 matching relation (equal, either bilateral,"
    " or either absent), so a left fusion counts for a bilateral complaint.",
    "option_stopped: present exactly when the stage is diagnostic_block or"
    " surgical_evaluation and the option it points to is not_met/unknown; its text names every"
    " not_met criterion (if the option is not_met) or every unknown one (if unknown).",
    "prior_fusion reason: required when the stage is interventional_treatment and a matching"
    " mis_fusion is recorded; not checked for other stages; absent without such a fusion.",
    "Same-date prolotherapy and PRP with one relief missing: 'the lower of their reliefs' is"
    " the lower recorded one.",
    "Stage 6 'fewer than two counted blocks are confirmed': dates whose lowest-relief counted"
    " block (any target) reaches the policy threshold, over all time.",
    "regenerative_response: sessions of the current combined series with at least one"
    " recorded relief, each at its lowest recorded relief; fewer than two such sessions: met.",
    "pregnancy alert: unchanged (pregnant: true only); anticoagulant alert: unchanged (info"
    " whenever anticoagulant is true, plan or not).",
    "steroid_interval (criterion) and regenerative_interval/response: unknown when procedures"
    " is absent (clarification on 'else met' criteria).",
    "imaging_excludes_other (v1): imaging recorded without any CT or MRI is not_met, as"
    " tests/test_eligibility.py has it.",
    "option_stopped 'by its label': the display label (labels.yaml) or the criterion's text.",
]


# --- small helpers ------------------------------------------------------------------------------
def D(text):
    return text if isinstance(text, date) else date.fromisoformat(text)


def add_months(d, n):
    i = d.month - 1 + n
    y, m = d.year + i // 12, i % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def years(a, b):
    """Whole years from a to b (an age)."""
    n = b.year - a.year
    if (b.month, b.day) < (a.month, a.day):
        n -= 1
    return n


def relief(b):
    v = ((Decimal(str(b["pain_before"])) - Decimal(str(b["pain_after"])))
         / Decimal(str(b["pain_before"])) * 100)
    return float(v.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def matches(cs, s):
    return cs is None or s is None or cs == s or "bilateral" in (cs, s)


def combine(statuses):
    statuses = list(statuses)
    if "not_met" in statuses:
        return "not_met"
    return "unknown" if "unknown" in statuses else "met"


def ongoing(p):
    """v1 'procedure relief ongoing'."""
    pc = p.get("relief_percent")
    return pc is not None and pc >= 50 and p.get("relief_ongoing") is True


def guided(p):
    """A guided procedure: guidance recorded and not none (clarification)."""
    return p.get("guidance") not in (None, "none")


def two_field(p):
    """v2 repeat rule: relief_percent >= 50 and relief_weeks >= 12, per the two-field rule."""
    pc, wk = p.get("relief_percent"), p.get("relief_weeks")
    if (pc is not None and pc < 50) or (wk is not None and wk < 12):
        return "not_met"
    return "unknown" if pc is None or wk is None else "met"


def by_date(items):
    out = {}
    for it in items:
        out.setdefault(D(it["date"]), []).append(it)
    return dict(sorted(out.items()))


def reps(blocks):
    """One block per date: the lowest relief represents the date (v3 clarification)."""
    return [min(bs, key=relief) for bs in by_date(blocks).values()]


# --- facts shared by several rules -------------------------------------------------------------
class Facts:
    def __init__(self, case):
        self.case = case
        self.as_of = as_of = D(case["as_of"])
        pt = case["patient"]
        self.birth = D(pt["birth_date"]) if pt.get("birth_date") else None
        self.age_given = pt.get("age")
        # clarification: with both given, birth_date is the age used everywhere
        self.age_now = years(self.birth, as_of) if self.birth else self.age_given
        self.sex = pt.get("sex")
        self.pregnant = pt.get("pregnant")
        h = self.h = case.get("history") or {}
        ex = self.ex = case.get("exam") or {}
        self.flags = h.get("red_flags")
        self.side = h.get("side")
        # onset (v3): pain_onset, or as_of minus pain_duration_months calendar months
        dur = h.get("pain_duration_months")
        self.duration = dur
        if h.get("pain_onset"):
            self.onset = D(h["pain_onset"])
        elif dur is not None:
            if int(dur) != dur:
                raise ValueError("READING: fractional pain_duration_months is not generated")
            self.onset = add_months(as_of, -int(dur))
        else:
            self.onset = None
        # pain duration (v1): from pain_onset, else pain_duration_months as given
        if h.get("pain_onset"):
            on = D(h["pain_onset"])
            self.at_least = lambda n: add_months(on, n) <= as_of
            self.more_than = lambda n: add_months(on, n) < as_of
        elif dur is not None:
            self.at_least = lambda n: dur >= n
            self.more_than = lambda n: dur > n
        else:
            self.at_least = self.more_than = None
        # cluster
        prov = ex.get("provocation") or {}
        self.prov = prov
        vals = [prov.get(t) for t in CLUSTER_TESTS]
        pos, miss = vals.count("positive"), vals.count(None)
        self.cluster = "positive" if pos >= 3 else "negative" if pos + miss < 3 else "incomplete"
        # conservative care weeks: union of ranges, only days on or after onset
        care = case.get("conservative_care")
        if care is None:
            self.weeks = None
        else:
            days = set()
            for c in care:
                s = D(c["start"])
                e = min(D(c["end"]), as_of) if c.get("end") else as_of
                if self.onset is not None:
                    s = max(s, self.onset)
                d = s
                while d < e:
                    days.add(d)
                    d += timedelta(days=1)
            self.weeks = len(days) / 7
        # blocks
        self.blocks = case.get("blocks")
        self.guided_blocks = [b for b in (self.blocks or []) if b["guidance"] in GUIDED_BLOCK]
        self.counted = [
            b for b in self.guided_blocks
            if matches(self.side, b.get("side"))
            and (self.onset is None or D(b["date"]) >= self.onset)
        ]
        self.ia = [b for b in self.counted if b.get("target") in (None, "intra_articular")]
        self.any_reps = reps(self.counted)
        self.ia_reps = reps(self.ia)
        # procedures
        self.P = case.get("procedures")
        self.procs = sorted(self.P or [], key=lambda p: p["date"])  # stable
        # differential
        bk, nd, slr = h.get("below_knee"), ex.get("neuro_deficit"), ex.get("straight_leg_raise")
        self.radicular = bk is True and (nd is True or slr == "positive")
        if self.radicular:
            self.no_radiculopathy = "not_met"
        elif bk is False or (nd is False and slr == "negative"):
            self.no_radiculopathy = "met"
        else:
            self.no_radiculopathy = "unknown"
        self.hip = ex.get("hip_rotation_pain") is True
        spa = h.get("spa_features")
        self.spa_count = len(set(spa or []))
        self.age_at_onset_known = (self.birth is not None or self.age_given is not None) and (
            self.onset is not None
        )
        self.spa_age_unknown = self.spa_count >= 3 and not self.age_at_onset_known
        self.rheumatology = None
        self.age_ambiguous = False
        if self.spa_count >= 3 and self.age_at_onset_known and self.more_than(3):
            before45 = self._onset_before_45()
            if before45 is not None:
                self.rheumatology = (
                    "refer" if self.spa_count >= 4 else "test_hla_b27"
                ) if before45 else None
        self.open = self.radicular or self.hip or self.rheumatology is not None
        self.undecided = not self.open and (
            self.no_radiculopathy == "unknown"
            or ex.get("hip_rotation_pain") is None
            or self.spa_age_unknown
        )
        self.could_be_pregnant = (
            self.pregnant is None
            and self.sex != "male"
            and (self.age_now is None or 12 <= self.age_now <= 50)
        )

    def _onset_before_45(self):
        if self.birth is not None:
            return years(self.birth, self.onset) < 45
        # READING: only `age` (at as_of) is known; the age at onset lies in [age-Y-1, age-Y]
        y = years(self.onset, self.as_of)
        hi, lo = self.age_given - y, self.age_given - y - 1
        if hi < 45:
            return True
        if lo >= 45:
            return False
        self.age_ambiguous = True
        return None


# --- invalid input (v3) --------------------------------------------------------------------------
def invalid(case):
    """The problems v3 adds (plus v2's 'after as_of'), as (field path, problem) pairs."""
    out = []
    as_of = D(case["as_of"])
    pt = case["patient"]
    birth = D(pt["birth_date"]) if pt.get("birth_date") else None
    dated = [("as_of", as_of)]
    h = case.get("history") or {}
    if h.get("pain_onset"):
        dated.append(("history.pain_onset", D(h["pain_onset"])))
    for i, c in enumerate(case.get("conservative_care") or []):
        dated.append((f"conservative_care[{i}].start", D(c["start"])))
        if c.get("end"):
            dated.append((f"conservative_care[{i}].end", D(c["end"])))
    for field in ("imaging", "blocks", "procedures", "proms"):
        for i, e in enumerate(case.get(field) or []):
            dated.append((f"{field}[{i}].date", D(e["date"])))
    for path, d in dated:
        if d > as_of:
            out.append((path, "after as_of"))
        if birth is not None and d < birth:
            out.append((path, "before the birth date"))
    if (birth is not None and pt.get("age") is not None
            and abs(pt["age"] - years(birth, as_of)) > 1):
        out.append(("patient.age", "differs from the birth date by more than 1"))
    if pt.get("pregnant") is True and pt.get("sex") == "male":
        out.append(("patient.pregnant", "pregnant with sex male"))
    for i, p in enumerate(case.get("procedures") or []):
        wk = p.get("relief_weeks")
        if wk is not None and wk > (as_of - D(p["date"])).days / 7 + 1:
            out.append((f"procedures[{i}].relief_weeks", "longer than the time since"))
    return out


# --- the reading ---------------------------------------------------------------------------------
def block_status(rs, thr):
    """(result, criterion) for a date-ordered list of representatives, with discordance."""
    if not rs:
        return "none", "not_met"
    r = relief(rs[-1])
    res = "confirmed" if r >= thr else "equivocal" if r >= 50 else "negative"
    if res == "confirmed" and len(rs) >= 2 and relief(rs[-2]) < 50:
        return "equivocal", "not_met"  # discordant blocks
    return res, "met" if res == "confirmed" else "not_met"


def concordance(f, reading="wildcard"):
    """two_concordant_blocks. READING (bilateral complaint): per side, the pool is the IA
    blocks of that side, `bilateral`, or without side ("wildcard"); a side-less block among
    the two most recent makes the side unknown. `reading="strict"` is the other reading (side-
    less blocks ignored, unknown only if filling them in as bilateral would give met), used by
    `ambiguous()` only."""
    if f.blocks is None:
        return "unknown"

    def check(pool, ok, fill=False):
        rs = reps(pool)
        if len(rs) < 2:
            return "not_met"
        last2 = rs[-2:]
        if any(relief(b) < FUSION_BLOCK_THRESHOLD for b in last2):
            return "not_met"
        sides = [("bilateral" if fill and b.get("side") is None else b.get("side"))
                 for b in last2]
        return "met" if all(s in ok for s in sides) else "unknown"

    if f.side == "bilateral":
        if reading == "wildcard":
            return combine(
                check([b for b in f.ia if b.get("side") in (s, "bilateral", None)],
                      (s, "bilateral"))
                for s in ("left", "right")
            )
        strict = combine(
            check([b for b in f.ia if b.get("side") in (s, "bilateral")], (s, "bilateral"))
            for s in ("left", "right")
        )
        if strict == "met":
            return "met"
        filled = combine(
            check([b for b in f.ia if b.get("side") in (s, "bilateral", None)],
                  (s, "bilateral"), fill=True)
            for s in ("left", "right")
        )
        return "unknown" if filled == "met" else "not_met"
    if f.side is None:
        return check(f.ia, ("bilateral",))
    return check(f.ia, (f.side, "bilateral"))


def rung_state(f, kinds):
    ps = [p for p in f.procs if p["kind"] in kinds and guided(p)
          and (f.onset is None or D(p["date"]) >= f.onset)]
    if not ps:
        return "untried"
    p = ps[-1]
    pc = p.get("relief_percent")
    if pc is None:
        return "unknown"
    if pc < 50:
        return "failed"
    if p.get("relief_ongoing") is True:
        return "helping"
    wk = p.get("relief_weeks")
    if wk is None:
        return "unknown"  # clarification: >= 50, no weeks, not ongoing
    return "failed" if wk < 12 else "lasting"


def rungs(policy):
    return [("steroid_injection",)] + ([ABLATION] if policy == "clinic" else [])


def ladder(f, policy):
    if f.P is None:
        return "unknown"
    states = [rung_state(f, k) for k in rungs(policy)]
    if any(ongoing(p) for p in f.procs) or any(
        s in ("untried", "helping", "lasting") for s in states
    ):
        return "not_met"
    if "unknown" in states:
        return "unknown"
    return "met"


def regen_sessions(procs, kinds):
    """Dates of the given regenerative kinds with the lowest recorded relief of the date."""
    out = {}
    for p in procs:
        if p["kind"] in kinds:
            d = D(p["date"])
            cur = out.setdefault(d, None)
            pc = p.get("relief_percent")
            if pc is not None:
                out[d] = pc if cur is None else min(cur, pc)
    return dict(sorted(out.items()))


def series_of(dates):
    runs = []
    for d in dates:
        if runs and (d - runs[-1][-1]).days <= 70:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def ref(case, policy):
    f = Facts(case)
    as_of = f.as_of
    thr = 75 if policy == "medicare" else 50
    start12 = as_of - timedelta(days=365)
    bres, _ = block_status(f.any_reps, thr)
    _, any_crit = block_status(f.any_reps, thr)
    _, ia_crit = block_status(f.ia_reps, thr)
    ia_confirmed = ia_crit == "met"
    lad = ladder(f, policy)
    fusions = [p for p in f.procs if p["kind"] == "mis_fusion" and matches(f.side, p.get("side"))]
    weeks = f.weeks
    latest_date = D(f.procs[-1]["date"]) if f.procs else None
    maintenance = any(ongoing(p) for p in f.procs if D(p["date"]) == latest_date)
    confirmed_dates = sum(1 for b in f.any_reps if relief(b) >= thr)

    # stage (v3, the first that applies)
    if f.flags:
        stage = "urgent_referral"
    elif f.flags is None:
        stage = "complete_examination"
    elif (
        bres == "negative"
        or (bres == "none" and f.cluster == "negative")
        or (lad == "met" and ia_confirmed and weeks is not None and weeks >= 26 and f.open)
    ):
        stage = "evaluate_other_source"
    elif bres == "none" and f.cluster == "incomplete":
        stage = "complete_examination"
    elif weeks is None or weeks < 4:
        stage = "conservative_care"
    elif bres in ("none", "equivocal") or (f.cluster == "negative" and confirmed_dates < 2):
        stage = "diagnostic_block"
    elif maintenance:
        stage = "maintenance"
    elif (
        ia_confirmed and weeks >= 26 and lad == "met" and not f.open and not fusions
        and f.pregnant is not True
    ):
        stage = "surgical_evaluation"
    else:
        stage = "interventional_treatment"

    # --- criteria ---
    h, ex = f.h, f.ex
    c = {}
    c["pain_3_months"] = "unknown" if f.at_least is None else (
        "met" if f.at_least(3) else "not_met")
    below, areas = h.get("below_l5"), h.get("pain_areas")
    if below is False or (areas is not None and not (areas.get("sij_region") or 0) > 0):
        c["location_below_l5"] = "not_met"
    else:
        c["location_below_l5"] = "unknown" if below is None else "met"
    c["no_radiculopathy"] = f.no_radiculopathy
    im = case.get("imaging")

    def imaging(mods=None):
        st = [i for i in (im or []) if mods is None or i["modality"] in mods]
        if any(i.get("excludes_other_causes") is True for i in st):
            return "met"
        if any(i.get("excludes_other_causes") is False for i in st):
            return "not_met"
        return "unknown"

    c["other_causes_excluded"] = imaging()
    # READING (v1, as tests/test_eligibility.py has it): imaging recorded without any CT or
    # MRI is not_met (the required modality was not done); a CT/MRI without a verdict, or no
    # imaging at all, is unknown
    ct_mri = [i for i in (im or []) if i["modality"] in ("ct", "mri")]
    if ct_mri or not im:
        c["imaging_excludes_other"] = imaging(("ct", "mri"))
    else:
        c["imaging_excludes_other"] = "not_met"
    prov = f.prov

    def gaen():
        s = (prov.get("gaenslen_left"), prov.get("gaenslen_right"))
        return "positive" if "positive" in s else "negative" if "negative" in s else None

    def count(tests):
        vals = [gaen() if t == "gaenslen" else prov.get(t) for t in tests]
        p, m = vals.count("positive"), vals.count(None)
        return "met" if p >= 3 else "not_met" if p + m < 3 else "unknown"

    prov_inj, prov_fus = count(INJECTION_TESTS), count(FUSION_TESTS)
    c["conservative_4_weeks"] = "unknown" if weeks is None else (
        "met" if weeks >= 4 else "not_met")
    c["nonoperative_6_months"] = "unknown" if weeks is None else (
        "met" if weeks >= 26 else "not_met")
    if f.blocks is None:
        c["diagnostic_sessions_limit"] = "unknown"
    else:
        n = len({D(b["date"]) for b in f.guided_blocks if start12 < D(b["date"]) <= as_of})
        c["diagnostic_sessions_limit"] = "met" if n < 2 else "not_met"
    c["no_red_flags"] = "unknown" if f.flags is None else "not_met" if f.flags else "met"
    al = case.get("allergies")
    c["no_local_anesthetic_allergy"] = (
        "unknown" if al is None else "not_met" if "local_anesthetic" in al else "met")
    c["no_corticosteroid_allergy"] = (
        "unknown" if al is None else "not_met" if "corticosteroid" in al else "met")
    c["not_pregnant"] = ("not_met" if f.pregnant is True
                         else "unknown" if f.could_be_pregnant else "met")
    blocks_unknown = f.blocks is None
    c["dbc_ia"] = "unknown" if blocks_unknown else ia_crit
    c["dbc_any"] = "unknown" if blocks_unknown else any_crit
    P, procs = f.P, f.procs
    ster = [p for p in procs if p["kind"] == "steroid_injection"]
    abl = [p for p in procs if p["kind"] in ABLATION]
    if P is None:
        for k in ("repeat_response", "therapeutic_sessions_limit", "steroid_interval",
                  "rfa_repeat_response", "rfa_interval", "regenerative_series_limit",
                  "regenerative_interval", "regenerative_response"):
            c[k] = "unknown"
    else:
        c["repeat_response"] = two_field(ster[-1]) if ster else "met"
        n = len({D(p["date"]) for p in ster if start12 < D(p["date"]) <= as_of})
        c["therapeutic_sessions_limit"] = "met" if n < 4 else "not_met"
        c["steroid_interval"] = (
            "not_met" if any((as_of - D(p["date"])).days < 56 for p in ster) else "met")
        c["rfa_repeat_response"] = two_field(abl[-1]) if abl else "met"
        c["rfa_interval"] = (
            "met" if not abl or (as_of - D(abl[-1]["date"])).days >= 182 else "not_met")
        c["regenerative_interval"] = "not_met" if any(
            p["kind"] in REGEN and (as_of - D(p["date"])).days < 28 for p in procs) else "met"
    # combined regenerative series (v3)
    sessions = regen_sessions(procs, REGEN)
    runs = series_of(list(sessions))
    current = runs[-1] if runs else []
    cur_active = bool(current) and (as_of - current[-1]).days <= 70
    if P is not None:
        c["regenerative_series_limit"] = (
            "not_met" if cur_active and len(current) >= 10 else "met")
        rec = [sessions[d] for d in current if sessions[d] is not None]
        c["regenerative_response"] = (
            "not_met" if len(rec) >= 2 and rec[-1] < 30 and rec[-2] < 30 else "met")
    meds = case.get("medications")
    if meds is None or meds.get("anticoagulant") is None:
        c["anticoagulation_addressed"] = "unknown"
    elif meds["anticoagulant"] is False:
        c["anticoagulation_addressed"] = "met"
    else:
        plan = meds.get("anticoagulant_plan")
        c["anticoagulation_addressed"] = (
            "unknown" if plan is None else "met" if plan else "not_met")
    fin = h.get("fortin_finger")
    sul = (ex.get("tenderness") or {}).get("sacral_sulcus")
    c["fortin_point"] = ("met" if (fin or sul)
                         else "not_met" if (fin is False and sul is False) else "unknown")
    g = h.get("generalized_pain_disorder")
    c["no_generalized_pain_disorder"] = "unknown" if g is None else "not_met" if g else "met"
    c["two_concordant_blocks"] = concordance(f)
    c["ladder_failed"] = lad
    c["no_prior_fusion"] = "unknown" if P is None else "not_met" if fusions else "met"
    c["differential_clear"] = ("not_met" if f.open
                               else "unknown" if f.undecided else "met")
    nrs = h.get("pain_nrs")
    c["pain_moderate_severe"] = "unknown" if nrs is None else "met" if nrs >= 5 else "not_met"
    c["pain_6_months"] = "unknown" if f.onset is None else (
        "met" if add_months(f.onset, 6) <= as_of else "not_met")

    lists = {
        "diagnostic_sij_injection": [
            ("pain_3_months", c["pain_3_months"]),
            ("location_below_l5", c["location_below_l5"]),
            ("no_radiculopathy", c["no_radiculopathy"]),
            ("other_causes_excluded", c["other_causes_excluded"]),
            ("provocation_3_positive", prov_inj),
            ("conservative_4_weeks", c["conservative_4_weeks"]),
            ("diagnostic_sessions_limit", c["diagnostic_sessions_limit"]),
            ("no_red_flags", c["no_red_flags"]),
            ("no_local_anesthetic_allergy", c["no_local_anesthetic_allergy"]),
            ("not_pregnant", c["not_pregnant"]),
        ],
        "therapeutic_sij_injection": [
            ("diagnostic_block_confirmed", c["dbc_ia"]),
            ("repeat_response", c["repeat_response"]),
            ("therapeutic_sessions_limit", c["therapeutic_sessions_limit"]),
            ("no_red_flags", c["no_red_flags"]),
            ("no_local_anesthetic_allergy", c["no_local_anesthetic_allergy"]),
            ("not_pregnant", c["not_pregnant"]),
            ("no_corticosteroid_allergy", c["no_corticosteroid_allergy"]),
            ("pain_3_months", c["pain_3_months"]),
            ("conservative_4_weeks", c["conservative_4_weeks"]),
            ("no_radiculopathy", c["no_radiculopathy"]),
            ("provocation_3_positive", prov_inj),
            ("steroid_interval", c["steroid_interval"]),
        ],
        "mis_sij_fusion": [
            ("nonoperative_6_months", c["nonoperative_6_months"]),
            ("location_below_l5", c["location_below_l5"]),
            ("fortin_point", c["fortin_point"]),
            ("provocation_3_positive", prov_fus),
            ("no_generalized_pain_disorder", c["no_generalized_pain_disorder"]),
            ("imaging_excludes_other", c["imaging_excludes_other"]),
            ("two_concordant_blocks", c["two_concordant_blocks"]),
            ("ladder_failed", c["ladder_failed"]),
            ("no_red_flags", c["no_red_flags"]),
            ("not_pregnant", c["not_pregnant"]),
            ("anticoagulation_addressed", c["anticoagulation_addressed"]),
            ("no_prior_fusion", c["no_prior_fusion"]),
            ("differential_clear", c["differential_clear"]),
            ("pain_moderate_severe", c["pain_moderate_severe"]),
            ("pain_6_months", c["pain_6_months"]),
        ],
    }
    if policy == "clinic":
        lists["sij_rfa"] = [
            ("diagnostic_block_confirmed", c["dbc_any"]),
            ("conservative_4_weeks", c["conservative_4_weeks"]),
            ("no_red_flags", c["no_red_flags"]),
            ("no_local_anesthetic_allergy", c["no_local_anesthetic_allergy"]),
            ("not_pregnant", c["not_pregnant"]),
            ("rfa_repeat_response", c["rfa_repeat_response"]),
            ("rfa_interval", c["rfa_interval"]),
            ("anticoagulation_addressed", c["anticoagulation_addressed"]),
            ("pain_3_months", c["pain_3_months"]),
            ("no_radiculopathy", c["no_radiculopathy"]),
        ]
        lists["regenerative_injection"] = [
            ("diagnostic_block_confirmed", c["dbc_any"]),
            ("conservative_4_weeks", c["conservative_4_weeks"]),
            ("no_red_flags", c["no_red_flags"]),
            ("no_local_anesthetic_allergy", c["no_local_anesthetic_allergy"]),
            ("not_pregnant", c["not_pregnant"]),
            ("regenerative_series_limit", c["regenerative_series_limit"]),
            ("pain_3_months", c["pain_3_months"]),
            ("no_radiculopathy", c["no_radiculopathy"]),
            ("regenerative_interval", c["regenerative_interval"]),
            ("regenerative_response", c["regenerative_response"]),
        ]
    else:
        lists["sij_rfa"] = []
        lists["regenerative_injection"] = []
    crit = {f"{o}.{k}": v for o, items in lists.items() for k, v in items}
    options = {
        o: ("not_covered" if not lists[o] else combine(v for _, v in lists[o])) for o in OPTIONS
    }

    # --- alerts ---
    alerts = []
    alerts += [("red_flag", "block")] * len(f.flags or [])
    n = len({D(p["date"]) for p in ster if start12 < D(p["date"]) <= as_of})
    if n >= 4:
        alerts.append(("steroid_frequency_limit", "block"))
    elif n == 3:
        alerts.append(("steroid_frequency_limit", "warn"))
    if ster and (as_of - D(ster[-1]["date"])).days < 56:
        alerts.append(("steroid_interval", "warn"))
    if f.pregnant is True:
        alerts.append(("pregnancy", "warn"))
    if al:
        if "local_anesthetic" in al:
            alerts.append(("allergy_conflict", "block"))
        elif {"corticosteroid", "contrast", "latex"} & set(al):
            alerts.append(("allergy_conflict", "warn"))
    if meds and meds.get("anticoagulant") is True:
        alerts.append(("anticoagulant", "info"))
    if any(b["guidance"] == "none" for b in f.blocks or []):
        alerts.append(("block_not_image_guided", "warn"))
    if cur_active:
        if len(current) >= 10:
            alerts.append(("regenerative_series_limit", "warn"))
        if (as_of - current[-1]).days < 28:
            alerts.append(("regenerative_interval", "info"))
        first = sessions[current[0]]
        if first is not None and first < 30:
            alerts.append(("regenerative_early_nonresponse", "warn"))
    if abl and (as_of - D(abl[-1]["date"])).days < 182:
        alerts.append(("rfa_too_soon", "info"))
    if f.spa_age_unknown:
        alerts.append(("spa_age_unknown", "info"))
    if f.onset is not None:
        if any(D(b["date"]) < f.onset for b in f.blocks or []):
            alerts.append(("blocks_before_onset", "info"))
        if any(D(x["start"]) < f.onset for x in case.get("conservative_care") or []):
            alerts.append(("care_before_onset", "info"))

    # --- courses ---
    regen = []
    for kind in REGEN:
        ds = sorted({D(p["date"]) for p in procs if p["kind"] == kind})
        if not ds:
            continue
        cur = series_of(ds)[-1]
        holding = next(r for r in runs if cur[-1] in r)
        regen.append({
            "kind": kind,
            "series_started": cur[0].isoformat(),
            "injections": len(cur),
            "last": cur[-1].isoformat(),
            "next_window": [(cur[-1] + timedelta(28)).isoformat(),
                            (cur[-1] + timedelta(42)).isoformat()],
            "limit": 10,
            "active": (as_of - cur[-1]).days <= 70,
            "series_injections": len(holding),
        })
    courses = {"regenerative": regen}
    if abl:
        a = abl[-1]
        courses["rfa"] = {
            "last": a["date"], "kind": a["kind"], "side": a.get("side"),
            "relief_percent": a.get("relief_percent"), "relief_weeks": a.get("relief_weeks"),
            "repeat_from": (D(a["date"]) + timedelta(182)).isoformat(),
        }

    # --- reasons ---
    pointed = {"diagnostic_block": "diagnostic_sij_injection",
               "surgical_evaluation": "mis_sij_fusion"}.get(stage)
    stopped = pointed is not None and options[pointed] in ("not_met", "unknown")
    stopping = []
    if stopped:
        want = options[pointed]
        stopping = [k for k, v in lists[pointed] if v == want]
    prior_fusion = True if (stage == "interventional_treatment" and fusions) else (
        False if not fusions else None)
    return {
        "stage": stage,
        "block": bres,
        "crit": crit,
        "options": options,
        "alerts": sorted(alerts),
        "courses": courses,
        "option_stopped": stopped,
        "stopping": (pointed, stopping),
        "prior_fusion": prior_fusion,
        "facts": f,
    }


# --- cases the text leaves open ------------------------------------------------------------------
def ambiguous(case):
    """Why a case sits on a point the text leaves open (None when it does not)."""
    f = Facts(case)
    if f.age_ambiguous:
        return "age at onset only known to within a year"
    procs = f.procs
    if procs:
        last = D(procs[-1]["date"])
        if len({ongoing(p) for p in procs if D(p["date"]) == last}) > 1:
            return "same-date procedures differ on relief ongoing (maintenance)"

    def last_date_differs(ps, key):
        if not ps:
            return False
        d = D(ps[-1]["date"])
        return len({key(p) for p in ps if D(p["date"]) == d}) > 1

    def fields(p):
        return (p.get("relief_percent"), p.get("relief_weeks"), p.get("relief_ongoing"))

    ster = [p for p in procs if p["kind"] == "steroid_injection"]
    abl = [p for p in procs if p["kind"] in ABLATION]
    if last_date_differs(ster, two_field):
        return "same-date steroid injections differ (repeat_response)"
    if last_date_differs(abl, lambda p: (p["kind"], p.get("side"), *fields(p))):
        return "same-date ablations differ (rfa criteria, courses.rfa)"
    for kinds in (("steroid_injection",), ABLATION):
        ps = [p for p in procs if p["kind"] in kinds and guided(p)
              and (f.onset is None or D(p["date"]) >= f.onset)]
        if last_date_differs(ps, fields):
            return "same-date rung procedures differ"
    # same-date blocks: the lowest relief shared by blocks of different sides (concordance)
    pools = [f.ia]
    if f.side == "bilateral":
        pools = [[b for b in f.ia if b.get("side") in (s, "bilateral", None)]
                 for s in ("left", "right")]
        pools += [[b for b in f.ia if b.get("side") in (s, "bilateral")]
                  for s in ("left", "right")]
    for pool in pools:
        for bs in by_date(pool).values():
            low = min(relief(b) for b in bs)
            if len({b.get("side") for b in bs if relief(b) == low}) > 1:
                return "same-date blocks tie on the lowest relief with different sides"
    if f.side == "bilateral" and concordance(f) != concordance(f, "strict"):
        return "bilateral complaint with side-less blocks (two readings differ)"
    return None


# --- random valid v3 cases -----------------------------------------------------------------------
PROV_VALUES = ("positive", "negative", "positive", None)


def gen(r: random.Random):
    """A random case, valid by construction (checked with `invalid`)."""
    as_of = D(r.choice(["2026-11-01", "2026-11-01", "2026-11-01", "2026-05-31", "2026-03-01"]))

    def ago(n):
        return as_of - timedelta(days=n)

    ch = {"as_of": as_of.isoformat()}
    # patient: age, birth date, sex, pregnancy
    age = r.choice([8, 11, 12, 13, 25, 34, 40, 44, 45, 46, 50, 51, 52, 60, 75])
    birth = ago(age * 365 + age // 4 + r.randint(1, 360))
    true_age = years(birth, as_of)
    mode = r.choice(["birth", "birth", "age", "both", "none"])
    ch["patient__birth_date"] = birth.isoformat() if mode in ("birth", "both") else ...
    if mode == "age":
        ch["patient__age"] = true_age
    elif mode == "both":
        ch["patient__age"] = true_age + r.choice([-1, 0, 0, 1])
    sex = r.choice(["female", "female", "male", "other", "unknown", ...])
    ch["patient__sex"] = sex
    preg = r.choice([True, False, False, ..., ...])
    if preg is True and sex == "male":
        preg = ...
    ch["patient__pregnant"] = preg
    # history
    ch["history__red_flags"] = r.choice(
        [[], [], [], [], [], [], ..., [r.choice(OTHER_FLAGS)], [r.choice(EMERGENCY_FLAGS)],
         [r.choice(EMERGENCY_FLAGS), r.choice(OTHER_FLAGS)]])
    side = r.choice(["left", "left", "right", "bilateral", ...])
    ch["history__side"] = side
    onset_mode = r.choice(["onset", "onset", "onset", "duration", "none"])
    onset = None
    if onset_mode == "onset":
        onset = ago(r.choice([0, 30, 91, 92, 150, 183, 184, 200, 300, 400, 600, 900, 1200]))
        ch["history__pain_onset"] = onset.isoformat()
    else:
        ch["history__pain_onset"] = ...
        if onset_mode == "duration":
            dur = r.choice([0, 2, 3, 4, 5, 6, 7, 12, 24, 40])
            ch["history__pain_duration_months"] = dur
            onset = add_months(as_of, -dur)
    ch["history__pain_nrs"] = r.choice([..., 2, 4, 5, 6, 8, 10])
    ch["history__below_l5"] = r.choice([True, True, False, ...])
    ch["history__below_knee"] = r.choice([False, False, True, ...])
    ch["history__fortin_finger"] = r.choice([True, False, ...])
    ch["history__generalized_pain_disorder"] = r.choice([False, False, True, ...])
    ch["history__pain_areas"] = r.choice(
        [..., {"axial_low_back": 40, "sij_region": 60}, {"axial_low_back": 100},
         {"axial_low_back": 10, "sij_region": 70, "buttock_leg": 20, "groin_anterior_thigh": 0}])
    spa = r.choice([0, 0, 0, 2, 3, 3, 4, 5, None])
    ch["history__spa_features"] = ... if spa is None else r.sample(SPA, spa)
    # exam
    prov = {t: v for t in ALL_TESTS if (v := r.choice(PROV_VALUES))}
    if r.random() < 0.4:
        prov.update({"distraction": "positive", "thigh_thrust": "positive",
                     "compression": "positive", "faber": "positive"})
    ch["exam__provocation"] = prov
    ch["exam__straight_leg_raise"] = r.choice(["negative", "negative", "positive", ...])
    ch["exam__neuro_deficit"] = r.choice([False, False, True, ...])
    ch["exam__hip_rotation_pain"] = r.choice([False, False, False, True, ...])
    ch["exam__tenderness__sacral_sulcus"] = r.choice([True, False, ...])
    ch["imaging"] = r.choice([
        ..., [],
        [{"date": ago(200).isoformat(), "modality": "mri", "excludes_other_causes": True}],
        [{"date": ago(200).isoformat(), "modality": "xray", "excludes_other_causes": True}],
        [{"date": ago(100).isoformat(), "modality": "ct", "excludes_other_causes": False}],
    ])
    # conservative care
    if r.random() < 0.08:
        ch["conservative_care"] = ...
    else:
        care = []
        for _ in range(r.randint(0, 3)):
            s = ago(r.randint(0, 700))
            course = {"type": r.choice(["physical_therapy", "nsaid", "chiropractic"]),
                      "start": s.isoformat()}
            if r.random() < 0.6:
                course["end"] = min(s + timedelta(days=r.randint(0, 400)), as_of).isoformat()
            care.append(course)
        if r.random() < 0.4:  # long care from onset: fusion candidates
            care.append({"type": "physical_therapy",
                         "start": (onset or ago(400)).isoformat()})
        ch["conservative_care"] = care
    # blocks
    if r.random() < 0.08:
        ch["blocks"] = ...
    else:
        bl = []
        if r.random() < 0.4:  # two concordant-looking blocks of the complaint side
            both = r.random() < 0.3  # or a left and a right block in each session
            for n in (r.randint(20, 150), r.randint(160, 330)):
                for s in (("left", "right") if both else (r.choice(
                        [side if side is not ... else "left", "bilateral"]),)):
                    bl.append({"date": ago(n).isoformat(), "side": s,
                               "target": "intra_articular", "guidance": "fluoroscopy",
                               "pain_before": 8, "pain_after": r.choice([0, 1, 2, 2.5, 3])})
        for _ in range(r.randint(0, 4)):
            same = bl and r.random() < 0.25  # same session as the previous block
            d = bl[-1]["date"] if same else ago(r.randint(0, 800)).isoformat()
            b = {"date": d, "guidance": r.choice(["fluoroscopy", "fluoroscopy", "ct",
                                                  "ultrasound", "none"])}
            b["pain_before"] = r.choice([4, 6, 8, 10, 7.5])
            b["pain_after"] = r.choice([r.randint(0, int(b["pain_before"])), 2.5, 0.5])
            s = r.choice(["left", "right", "bilateral", None])
            if s:
                b["side"] = s
            t = r.choice(["intra_articular", "intra_articular", "periarticular",
                          "extra_articular", "lateral_branch", None])
            if t:
                b["target"] = t
            bl.append(b)
        r.shuffle(bl)
        ch["blocks"] = bl
    # procedures
    if r.random() < 0.08:
        ch["procedures"] = ...
    else:
        pr = []

        def proc(kind, d):
            p = {"date": d.isoformat(), "kind": kind}
            s = r.choice(["left", "left", "right", "bilateral", None])
            if s:
                p["side"] = s
            g = r.choice(["fluoroscopy", "fluoroscopy", "ultrasound", "ct", "none", None])
            if g:
                p["guidance"] = g
            if r.random() < 0.75:
                p["relief_percent"] = r.choice([0, 20, 29, 30, 49, 50, 60, 80, 100])
            cap = (as_of - d).days / 7 + 1
            if r.random() < 0.7:
                wk = r.choice([0, 4, 11, 11.5, 12, 20, 30])
                if wk <= cap:
                    p["relief_weeks"] = wk
            if r.random() < 0.5:
                p["relief_ongoing"] = r.random() < 0.4
            return p

        for _ in range(r.randint(0, 7)):
            kind = r.choice(KINDS)
            if pr and r.random() < 0.15:
                prev = pr[-1]
                if prev["kind"] in REGEN and r.random() < 0.6:
                    other = "prp" if prev["kind"] == "prolotherapy" else "prolotherapy"
                    pr.append(proc(other, D(prev["date"])))
                else:
                    q = dict(prev)
                    q["side"] = r.choice(["left", "right", "bilateral"])
                    pr.append(q)
                continue
            pr.append(proc(kind, ago(r.randint(0, 900))))
        if r.random() < 0.25:  # steroid injections close together
            d = ago(r.randint(0, 60))
            for _ in range(r.randint(2, 5)):
                pr.append(proc("steroid_injection", d))
                d -= timedelta(days=r.choice([21, 30, 50, 55, 56, 57, 90]))
        if r.random() < 0.25:  # a regenerative run
            d = ago(r.choice([0, 10, 27, 28, 40, 69, 70, 71, 120]))
            for _ in range(r.randint(3, 12)):
                kind = r.choice(REGEN)
                pr.append(proc(kind, d))
                if r.random() < 0.15:
                    pr.append(proc("prp" if kind == "prolotherapy" else "prolotherapy", d))
                d -= timedelta(days=r.choice([14, 21, 28, 35, 70, 71]))
        if r.random() < 0.3:  # a failed ladder
            for kind in ("steroid_injection", r.choice(ABLATION)):
                d = ago(r.randint(100, 300))
                p = {"date": d.isoformat(), "kind": kind, "side": "left",
                     "guidance": "fluoroscopy", "relief_percent": r.choice([10, 30, 60]),
                     "relief_weeks": r.choice([2, 4])}
                pr.append(p)
        r.shuffle(pr)
        ch["procedures"] = pr
    ch["medications"] = r.choice([
        ..., {}, {"anticoagulant": False}, {"anticoagulant": True},
        {"anticoagulant": True, "anticoagulant_plan": True},
        {"anticoagulant": True, "anticoagulant_plan": False},
        {"anticoagulant": False, "anticoagulant_plan": False},
    ])
    ch["allergies"] = r.choice([..., [], [], ["latex"], ["corticosteroid"], ["contrast"],
                                ["local_anesthetic"], ["latex", "contrast"]])
    if r.random() < 0.3:
        ch = _near_candidate(r, ch, as_of)
    for section in ("exam", "history", "imaging", "proms"):  # whole sections not recorded
        if r.random() < 0.02:
            ch = {k: v for k, v in ch.items() if not k.startswith(section + "__")}
            ch[section] = ...
    case = make(**ch)
    # every date on or after the birth date: by construction (ages >= 8, dates < 4 years back)
    assert not invalid(case), invalid(case)
    return case


# Keys that go together (one onset, one age, one pregnancy statement).
GROUPS = [
    ("history__pain_onset", "history__pain_duration_months"),
    ("patient__birth_date", "patient__age"),
    ("patient__sex", "patient__pregnant"),
]


def _near_candidate(r, ch, as_of):
    """A clear fusion candidate with a few facts taken from the random case `ch`."""

    def ago(n):
        return (as_of - timedelta(days=n)).isoformat()

    cand = {
        "patient__birth_date": ago(50 * 365), "patient__age": ..., "patient__sex": "female",
        "patient__pregnant": False,
        "history__red_flags": [], "history__side": "left", "history__pain_onset": ago(400),
        "history__pain_duration_months": ..., "history__pain_nrs": 7, "history__below_l5": True,
        "history__below_knee": False, "history__fortin_finger": True,
        "history__generalized_pain_disorder": False, "history__spa_features": [],
        "history__pain_areas": {"axial_low_back": 10, "sij_region": 90},
        "exam__provocation": {t: "positive" for t in ALL_TESTS},
        "exam__straight_leg_raise": "negative", "exam__neuro_deficit": False,
        "exam__hip_rotation_pain": False, "exam__tenderness__sacral_sulcus": True,
        "imaging": [{"date": ago(300), "modality": "mri", "excludes_other_causes": True}],
        "conservative_care": [{"type": "physical_therapy", "start": ago(390)}],
        "blocks": [
            {"date": ago(d), "side": "left", "target": "intra_articular",
             "guidance": "fluoroscopy", "pain_before": 8, "pain_after": 1}
            for d in (330, 300)
        ],
        "procedures": [
            {"date": ago(250), "kind": "steroid_injection", "side": "left",
             "guidance": "fluoroscopy", "relief_percent": 20, "relief_weeks": 2},
            {"date": ago(150), "kind": "rfa_cooled", "side": "left", "guidance": "fluoroscopy",
             "relief_percent": 60, "relief_weeks": 8, "relief_ongoing": False},
        ],
        "medications": {"anticoagulant": False},
        "allergies": [],
    }
    grouped = {k: g for g in GROUPS for k in g}
    out = dict(cand)
    taken = set()
    for key in ch:
        if key in taken or key == "as_of":
            continue
        if r.random() < 0.12:
            for k in grouped.get(key, (key,)):
                taken.add(k)
                out[k] = ch.get(k, ...)
    out["as_of"] = ch["as_of"]
    return out


# --- cases on and across the v3 invalid-input boundaries ---------------------------------------
def dated_entries(case):
    """(setter, date) for every date in the case but the birth date."""
    out = [(lambda d: case.__setitem__("as_of", d), case["as_of"])]
    h = case.get("history") or {}
    if h.get("pain_onset"):
        out.append((lambda d: h.__setitem__("pain_onset", d), h["pain_onset"]))
    for c in case.get("conservative_care") or []:
        out.append((lambda d, c=c: c.__setitem__("start", d), c["start"]))
    for field in ("imaging", "blocks", "procedures", "proms"):
        for e in case.get(field) or []:
            out.append((lambda d, e=e: e.__setitem__("date", d), e["date"]))
    return out


def gen_edge(r: random.Random):
    """A valid random case bent onto (or one step across) a v3 invalid-input boundary."""
    case = gen(r)
    pt = case["patient"]
    as_of = D(case["as_of"])
    kind = r.choice(["birth", "birth", "age", "pregnant", "weeks", "weeks"])
    if kind == "birth":  # the birth date on, or a day after, one of the case's dates
        entries = [(s, d) for s, d in dated_entries(case) if s is not None]
        _, d = r.choice(entries)
        pt["birth_date"] = (D(d) + timedelta(days=r.choice([-1, 0, 0, 1]))).isoformat()
        if pt.get("age") is not None:
            pt["age"] = max(0, years(D(pt["birth_date"]), as_of))
        for c in case.get("conservative_care") or []:  # keep ends after starts
            if c.get("end") and c["end"] < c["start"]:
                c["end"] = c["start"]
    elif kind == "age":
        if not pt.get("birth_date"):
            pt["birth_date"] = "1980-06-15"
        pt["age"] = max(0, years(D(pt["birth_date"]), as_of) + r.choice([-2, -1, 0, 1, 2]))
    elif kind == "pregnant":
        pt["pregnant"] = True
        pt["sex"] = r.choice(["male", "male", "female", "other"])
    else:
        procs = case.get("procedures") or []
        if not procs:
            case["procedures"] = procs = [{"date": case["as_of"], "kind": "prp"}]
        p = r.choice(procs)
        days = (as_of - D(p["date"])).days
        p["relief_weeks"] = max(0, round(days / 7 + 1 + r.choice([-0.5, -0.01, 0, 0.01, 0.5]), 2))
        if p["relief_weeks"] > 1040:
            p["relief_weeks"] = 1040
    return case
