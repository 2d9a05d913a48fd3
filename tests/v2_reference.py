"""An independent reading of several ENGINE-RULES v2 rules, for tests/test_vignettes_v2.py.

Written from the rules' text alone, without the engine's helpers: the stage (with side, target
and the covered ladder), the block criteria, the session limits, repeat criteria, regenerative
series and the latest ablation (`courses`), the course and steroid alerts, the follow-up
schedule, and the v1 criteria the v2 general rules touch. Random cases are compared against the
engine; ties the rules leave open (same-date procedures that differ) are not generated.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from tests.conftest import make

AS_OF = date(2026, 11, 1)
CLUSTER_TESTS = ("distraction", "thigh_thrust", "compression", "sacral_thrust",
                 "gaenslen_left", "gaenslen_right")  # Laslett's cluster, Gaenslen per side
ALL_TESTS = (*CLUSTER_TESTS, "faber", "yeoman")


def D(text):
    return date.fromisoformat(text)


def add_months(d, n):
    i = d.month - 1 + n
    y, m = d.year + i // 12, i % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def relief(b, a):
    v = (Decimal(str(b)) - Decimal(str(a))) / Decimal(str(b)) * 100
    return float(v.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def matches(cs, bs):
    return cs is None or bs is None or cs == bs or "bilateral" in (cs, bs)


def ref(case, policy):
    thr = 75 if policy == "medicare" else 50
    hist = case.get("history", {})
    side = hist.get("side")
    flags = hist.get("red_flags")
    blocks = case.get("blocks")
    guided = [b for b in (blocks or []) if b["guidance"] in ("fluoroscopy", "ct", "ultrasound")]
    counted = sorted([b for b in guided if matches(side, b.get("side"))], key=lambda b: b["date"])
    latest = counted[-1] if counted else None
    joint = [b for b in counted if b.get("target") in (None, "intra_articular")]
    ljoint = joint[-1] if joint else None

    def res(b):
        if b is None:
            return "none"
        r = relief(b["pain_before"], b["pain_after"])
        return "confirmed" if r >= thr else "equivocal" if r >= 50 else "negative"

    bres = res(latest)
    prov = case["exam"]["provocation"]
    tests = [prov.get(t) for t in CLUSTER_TESTS]
    pos = tests.count("positive")
    nper = tests.count(None)
    cl = "positive" if pos >= 3 else "negative" if pos + nper < 3 else "incomplete"
    care = case.get("conservative_care")
    if care is None:
        weeks = None
    else:
        days = set()
        for c in care:
            s, e = D(c["start"]), min(D(c.get("end", AS_OF.isoformat())), AS_OF)
            d = s
            while d < e:
                days.add(d)
                d += timedelta(days=1)
        weeks = len(days) / 7
    procs = sorted(case.get("procedures") or [], key=lambda p: p["date"])

    def failed(p):
        pc, wk = p.get("relief_percent"), p.get("relief_weeks")
        return (pc is not None and pc < 50) or (wk is not None and wk < 12)

    rungs = [("steroid_injection",)] + (
        [("rfa_conventional", "rfa_cooled")] if policy == "clinic" else []
    )
    if flags:
        stage = "urgent_referral"
    elif bres == "negative" or (bres == "none" and cl == "negative"):
        stage = "evaluate_other_source"
    elif bres == "none" and cl == "incomplete":
        stage = "complete_examination"
    elif weeks is None or weeks < 4:
        stage = "conservative_care"
    elif bres in ("none", "equivocal"):
        stage = "diagnostic_block"
    elif (
        procs
        and (procs[-1].get("relief_percent") or 0) >= 50
        and procs[-1].get("relief_ongoing") is True
    ):
        stage = "maintenance"
    elif weeks >= 26 and all(
        [p for p in procs if p["kind"] in k] and failed([p for p in procs if p["kind"] in k][-1])
        for k in rungs
    ):
        stage = "surgical_evaluation"
    else:
        stage = "interventional_treatment"
    out = {"stage": stage, "block": bres}
    crit = {}

    def blockc(b, t):
        if blocks is None:
            return "unknown"
        if b is None:
            return "not_met"
        return "met" if relief(b["pain_before"], b["pain_after"]) >= t else "not_met"

    crit["therapeutic_sij_injection.diagnostic_block_confirmed"] = blockc(ljoint, thr)
    crit["mis_sij_fusion.diagnostic_block_" + ("75" if policy == "medicare" else "50")] = blockc(
        ljoint, thr
    )
    if policy == "clinic":
        crit["sij_rfa.diagnostic_block_confirmed"] = blockc(latest, thr)
    start = AS_OF - timedelta(days=365)
    if blocks is None:
        crit["diagnostic_sij_injection.diagnostic_sessions_limit"] = "unknown"
    else:
        n = len({b["date"] for b in guided if start < D(b["date"]) <= AS_OF})
        crit["diagnostic_sij_injection.diagnostic_sessions_limit"] = "met" if n < 2 else "not_met"
    P = case.get("procedures")

    def two(p):
        pc, wk = p.get("relief_percent"), p.get("relief_weeks")
        if (pc is not None and pc < 50) or (wk is not None and wk < 12):
            return "not_met"
        return "unknown" if pc is None or wk is None else "met"

    ster = [p for p in procs if p["kind"] == "steroid_injection"]
    abl = [p for p in procs if p["kind"] in ("rfa_conventional", "rfa_cooled")]
    if P is None:
        crit["therapeutic_sij_injection.repeat_response"] = "unknown"
        crit["therapeutic_sij_injection.therapeutic_sessions_limit"] = "unknown"
    else:
        crit["therapeutic_sij_injection.repeat_response"] = two(ster[-1]) if ster else "met"
        n = len({p["date"] for p in ster if start < D(p["date"]) <= AS_OF})
        crit["therapeutic_sij_injection.therapeutic_sessions_limit"] = "met" if n < 4 else "not_met"
    # series
    series = []
    for kind in ("prolotherapy", "prp"):
        ds = sorted({D(p["date"]) for p in procs if p["kind"] == kind})
        runs = []
        for d in ds:
            if runs and (d - runs[-1][-1]).days > 70:
                runs.append([d])
            elif runs:
                runs[-1].append(d)
            else:
                runs.append([d])
        if runs:
            cur = runs[-1]
            first = [
                p.get("relief_percent")
                for p in procs
                if p["kind"] == kind and D(p["date"]) == cur[0]
            ]
            series.append(
                {
                    "kind": kind,
                    "series_started": cur[0].isoformat(),
                    "injections": len(cur),
                    "last": cur[-1].isoformat(),
                    "next_window": [
                        (cur[-1] + timedelta(28)).isoformat(),
                        (cur[-1] + timedelta(42)).isoformat(),
                    ],
                    "limit": 10,
                    "active": (AS_OF - cur[-1]).days <= 70,
                    "_first": first,
                }
            )
    if policy == "clinic":
        if P is None:
            for c in ("rfa_repeat_response", "rfa_interval"):
                crit["sij_rfa." + c] = "unknown"
            crit["regenerative_injection.regenerative_series_limit"] = "unknown"
        else:
            crit["sij_rfa.rfa_repeat_response"] = two(abl[-1]) if abl else "met"
            crit["sij_rfa.rfa_interval"] = (
                "met" if not abl or (AS_OF - D(abl[-1]["date"])).days >= 182 else "not_met"
            )
            crit["regenerative_injection.regenerative_series_limit"] = (
                "not_met" if any(s["active"] and s["injections"] >= 10 for s in series) else "met"
            )
    out["crit"] = crit
    courses = {"regenerative": [{k: v for k, v in s.items() if k != "_first"} for s in series]}
    if abl:
        a = abl[-1]
        courses["rfa"] = {
            "last": a["date"],
            "kind": a["kind"],
            "side": a.get("side"),
            "relief_percent": a.get("relief_percent"),
            "relief_weeks": a.get("relief_weeks"),
            "repeat_from": (D(a["date"]) + timedelta(182)).isoformat(),
        }
    out["courses"] = courses
    al = set()
    for s in series:
        if not s["active"]:
            continue
        if s["injections"] >= 10:
            al.add(("regenerative_series_limit", "warn"))
        if (AS_OF - D(s["last"])).days < 28:
            al.add(("regenerative_interval", "info"))
        fr = [x for x in s["_first"] if x is not None]
        if fr and min(fr) < 30:
            al.add(("regenerative_early_nonresponse", "warn"))
    if abl and (AS_OF - D(abl[-1]["date"])).days < 182:
        al.add(("rfa_too_soon", "info"))
    if side is not None:
        n = len(
            {
                p["date"]
                for p in ster
                if start < D(p["date"]) <= AS_OF
                and (side == "bilateral" or p.get("side") in (None, "bilateral", side))
            }
        )
        if n >= 4:
            al.add(("steroid_frequency_limit", "block"))
        elif n == 3:
            al.add(("steroid_frequency_limit", "warn"))
    if ster and (AS_OF - D(ster[-1]["date"])).days < 56:
        al.add(("steroid_interval", "warn"))
    out["alerts"] = al
    # follow-up
    fu = []
    proms = case.get("proms") or []

    def status(win, instr):
        if all(
            any(pr["instrument"] == i and win[0] <= D(pr["date"]) <= win[1] for pr in proms)
            for i in instr
        ):
            return "done"
        return "upcoming" if win[0] > AS_OF else "due" if win[1] >= AS_OF else "missed"

    order = ["baseline", "3m", "6m", "12m", "24m", "2w", "6w"]
    if procs:
        st = D(procs[0]["date"])
        for pt, m in (("baseline", 0), ("3m", 3), ("6m", 6), ("12m", 12), ("24m", 24)):
            due = add_months(st, m)
            win = (
                (due - timedelta(30), due) if m == 0 else (due - timedelta(14), due + timedelta(28))
            )
            ins = ["odi", "nrs"] if m == 0 else ["odi", "nrs", "pgic"]
            fu.append(
                (
                    due,
                    order.index(pt),
                    date.min,
                    {
                        "point": pt,
                        "anchor": "treatment_start",
                        "due": due.isoformat(),
                        "window": [win[0].isoformat(), win[1].isoformat()],
                        "instruments": ins,
                        "status": status(win, ins),
                    },
                )
            )
        for d, kind in dict.fromkeys((p["date"], p["kind"]) for p in procs):
            for pt, n in (("2w", 14), ("6w", 42)):
                due = D(d) + timedelta(n)
                win = (due - timedelta(3), due + timedelta(7))
                fu.append(
                    (
                        due,
                        order.index(pt),
                        D(d),
                        {
                            "point": pt,
                            "anchor": "procedure",
                            "procedure_date": d,
                            "procedure_kind": kind,
                            "due": due.isoformat(),
                            "window": [win[0].isoformat(), win[1].isoformat()],
                            "instruments": ["nrs", "pgic"],
                            "status": status(win, ["nrs", "pgic"]),
                        },
                    )
                )
    fu.sort(key=lambda x: x[:3])
    out["follow_up"] = [x[3] for x in fu]
    return out


KINDS = ["steroid_injection", "prolotherapy", "prp", "rfa_conventional", "rfa_cooled", "mis_fusion"]


def rdate(r, span=800):
    return (AS_OF - timedelta(days=r.randint(0, span))).isoformat()


def gen(r):
    ch = {}
    ch["history__side"] = r.choice(["left", "right", "bilateral", ...])
    ch["history__red_flags"] = r.choice([[], [], [], [], ..., ["fever"]])
    prov = {}
    for t in ALL_TESTS:
        v = r.choice(["positive", "negative", "positive", None])
        if v:
            prov[t] = v
    ch["exam__provocation"] = prov
    if r.random() < 0.1:
        ch["conservative_care"] = ...
    else:
        care = []
        for _ in range(r.randint(0, 3)):
            s = AS_OF - timedelta(days=r.randint(0, 300))
            c = {"type": "pt", "start": s.isoformat()}
            if r.random() < 0.7:
                c["end"] = (s + timedelta(days=r.randint(0, 250))).isoformat()
                if c["end"] > AS_OF.isoformat():
                    c["end"] = AS_OF.isoformat()
            care.append(c)
        ch["conservative_care"] = care
    if r.random() < 0.1:
        ch["blocks"] = ...
    else:
        bl, used = [], set()
        for _ in range(r.randint(0, 4)):
            d = rdate(r, 500)
            if d in used:
                continue
            used.add(d)
            b = {
                "date": d,
                "guidance": r.choice(["fluoroscopy", "ct", "ultrasound", "none"]),
                "pain_before": r.choice([4, 6, 8, 10, 7]),
                "pain_after": 0,
            }
            b["pain_after"] = (
                r.choice([0, 1, 2, 3, 4, 5, 6]) if b["pain_before"] > 6 else r.choice([0, 1, 2, 3])
            )
            s = r.choice(["left", "right", "bilateral", None])
            if s:
                b["side"] = s
            t = r.choice(
                ["intra_articular", "periarticular", "extra_articular", "lateral_branch", None]
            )
            if t:
                b["target"] = t
            bl.append(b)
        ch["blocks"] = bl
    if r.random() < 0.1:
        ch["procedures"] = ...
    else:
        pr = []
        for _ in range(r.randint(0, 12)):
            k = r.choice([*KINDS, "prp", "prolotherapy", "prolotherapy"])
            if pr and r.random() < 0.15:
                q = dict(pr[-1])
                q["side"] = r.choice(["left", "right", "bilateral"])
                pr.append(q)  # same session, other side
                continue
            else:
                d = rdate(r, 600 if k != "prp" else 200)
            p = {"date": d, "kind": k}
            s = r.choice(["left", "right", "bilateral", None])
            if s:
                p["side"] = s
            if r.random() < 0.7:
                p["relief_percent"] = r.choice([0, 20, 29, 30, 49, 50, 60, 80])
            if r.random() < 0.7:
                # v3: no longer than the time since the procedure (invalid input otherwise)
                since = (AS_OF - D(d)).days // 7 + 1
                p["relief_weeks"] = min(r.choice([0, 4, 11, 12, 20]), since)
            if r.random() < 0.5:
                p["relief_ongoing"] = r.random() < 0.5
            pr.append(p)
        ch["procedures"] = pr
    proms = []
    for _ in range(r.randint(0, 6)):
        inst = r.choice(["nrs", "pgic", "odi"])
        e = {"date": rdate(r, 500), "instrument": inst}
        if inst == "odi":
            e["answers"] = [1] * 10
        else:
            e["value"] = r.randint(1, 7)
        proms.append(e)
    ch["proms"] = proms
    return make(**ch)


def ambiguous(case):
    # ties the spec does not order: same-date procedures of different kinds (or differing
    # reliefs), same-date blocks
    procs = case.get("procedures") or []
    by = {}
    for p in procs:
        by.setdefault(p["date"], []).append(p)
    for _d, ps in by.items():
        if (
            len(
                {
                    (
                        p["kind"],
                        p.get("relief_percent"),
                        p.get("relief_weeks"),
                        p.get("relief_ongoing"),
                    )
                    for p in ps
                }
            )
            > 1
        ):
            return True
    return False


# --- v1 criteria and option status  --------------------------------------------------------
def ref_v1(case, policy):
    h = case.get("history") or {}
    ex = case.get("exam") or {}
    crit = {}
    # location_below_l5
    below, areas = h.get("below_l5"), h.get("pain_areas")
    if below is False or (areas is not None and not (areas.get("sij_region") or 0) > 0):
        loc = "not_met"
    elif below is None:
        loc = "unknown"
    else:
        loc = "met"
    # radiculopathy
    bk, nd, slr = h.get("below_knee"), ex.get("neuro_deficit"), ex.get("straight_leg_raise")
    if bk is True and (nd is True or slr == "positive"):
        rad = "not_met"
    elif bk is False or (nd is False and slr == "negative"):
        rad = "met"
    else:
        rad = "unknown"
    # imaging
    im = case.get("imaging")

    def imaging(mods=None):
        st = [i for i in (im or []) if mods is None or i["modality"] in mods]
        if any(i.get("excludes_other_causes") is True for i in st):
            return "met"
        if any(i.get("excludes_other_causes") is False for i in st):
            return "not_met"
        return "unknown"

    prov = ex.get("provocation") or {}

    def gaen():
        s = (prov.get("gaenslen_left"), prov.get("gaenslen_right"))
        return "positive" if "positive" in s else "negative" if "negative" in s else None

    def count(tests):
        vals = [gaen() if t == "gaenslen" else prov.get(t) for t in tests]
        p, m = vals.count("positive"), vals.count(None)
        return "met" if p >= 3 else "not_met" if p + m < 3 else "unknown"

    fl = h.get("red_flags")
    nrf = "unknown" if fl is None else "not_met" if fl else "met"
    al = case.get("allergies")
    la = "unknown" if al is None else "not_met" if "local_anesthetic" in al else "met"
    pt = case["patient"]
    preg = (
        "not_met"
        if pt.get("pregnant") is True
        else "met"
        if (pt.get("pregnant") is False or pt.get("sex") == "male")
        else "unknown"
    )
    fin, sul = h.get("fortin_finger"), ((ex.get("tenderness") or {}).get("sacral_sulcus"))
    fort = "met" if (fin or sul) else "not_met" if (fin is False and sul is False) else "unknown"
    g = h.get("generalized_pain_disorder")
    gpd = "unknown" if g is None else "not_met" if g else "met"
    crit["diagnostic_sij_injection.location_below_l5"] = loc
    crit["mis_sij_fusion.location_below_l5"] = loc
    crit["diagnostic_sij_injection.no_radiculopathy"] = rad
    crit["diagnostic_sij_injection.other_causes_excluded"] = imaging()
    crit["diagnostic_sij_injection.provocation_3_positive"] = count(
        ["faber", "gaenslen", "thigh_thrust", "compression", "distraction", "yeoman"]
    )
    crit["mis_sij_fusion.provocation_3_positive"] = count(
        ["gaenslen", "faber", "compression", "distraction", "thigh_thrust"]
    )
    for o in ("diagnostic_sij_injection", "therapeutic_sij_injection", "mis_sij_fusion") + (
        ("sij_rfa", "regenerative_injection") if policy == "clinic" else ()
    ):
        crit[o + ".no_red_flags"] = nrf
    for o in ("diagnostic_sij_injection", "therapeutic_sij_injection") + (
        ("sij_rfa", "regenerative_injection") if policy == "clinic" else ()
    ):
        crit[o + ".no_local_anesthetic_allergy"] = la
    for o in ("mis_sij_fusion",) + (
        ("sij_rfa", "regenerative_injection") if policy == "clinic" else ()
    ):
        crit[o + ".not_pregnant"] = preg
    crit["mis_sij_fusion.fortin_point"] = fort
    crit["mis_sij_fusion.no_generalized_pain_disorder"] = gpd
    return crit


def gen_v1(r):
    ch = {}

    def maybe(path, values):
        v = r.choice([*values, ...])
        ch[path] = v

    maybe("history__below_l5", [True, False])
    ch["history__pain_areas"] = r.choice(
        [
            ...,
            {"axial_low_back": 100},
            {"axial_low_back": 40, "sij_region": 60},
            {"sij_region": 0, "buttock_leg": 100},
        ]
    )
    maybe("history__below_knee", [True, False])
    maybe("exam__neuro_deficit", [True, False])
    maybe("exam__straight_leg_raise", ["positive", "negative"])
    maybe("history__fortin_finger", [True, False])
    maybe("exam__tenderness__sacral_sulcus", [True, False])
    maybe("history__generalized_pain_disorder", [True, False])
    maybe("history__red_flags", [[], ["fever"]])
    maybe("allergies", [[], ["local_anesthetic"], ["latex"]])
    maybe("patient__pregnant", [True, False])
    maybe("patient__sex", ["male", "female", "other", "unknown"])
    if ch["patient__sex"] == "male" and ch["patient__pregnant"] is True:
        ch["patient__pregnant"] = ...
    ch["imaging"] = r.choice(
        [
            ...,
            [],
            [{"date": "2026-01-01", "modality": "xray", "excludes_other_causes": True}],
            [{"date": "2026-01-01", "modality": "mri"}],
            [
                {"date": "2026-01-01", "modality": "ct", "excludes_other_causes": False},
                {"date": "2026-02-01", "modality": "xray", "excludes_other_causes": True},
            ],
        ]
    )
    prov = {}
    for t in ALL_TESTS:
        v = r.choice(["positive", "negative", None])
        if v:
            prov[t] = v
    ch["exam__provocation"] = prov
    return make(**ch)
