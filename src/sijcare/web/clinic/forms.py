"""The clinic's record forms (intake, examination, block, imaging, care, procedure, outcome,
questionnaires, medications), the first visit that combines them, and the patient and episode
fields. Labels and how-to text come from the knowledge base."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from sijcare.knowledge import load_knowledge
from sijcare.labels import label
from sijcare.store.outcomes import complications
from sijcare.web.forms import (
    ODI_SECTIONS,
    PGIC,
    Choices,
    FormField,
    Group,
    RecordForm,
    TableRow,
)

SIDES: Choices = (("left", "Left"), ("right", "Right"), ("bilateral", "Bilateral"))
GUIDANCE: Choices = (("fluoroscopy", "Fluoroscopy"), ("ct", "CT"),
                     ("ultrasound", "Ultrasound"), ("none", "No image guidance"))
RESULT: Choices = (("positive", "Positive"), ("negative", "Negative"))


def _words(ids: tuple[str, ...]) -> Choices:
    """The codes with their labels from the knowledge base ("NSAIDs", not "Nsaid")."""
    return tuple((i, label(i)) for i in ids)


def _pain(name: str, label: str, hint: str = "") -> FormField:
    return FormField(name, label, "number", hint=hint or "0 (none) to 10 (worst)", low=0,
                     high=10)


RECORDED_ON = FormField("recorded_on", "Recorded on", "date",
                        hint="The day this was recorded. The assessment as of a date is built "
                             "only from what had been recorded on or before that date.")


def _intake() -> RecordForm:
    kb = load_knowledge()
    return RecordForm("intake", "Intake and history", (
        Group("Pain", (
            FormField("pain_onset", "Pain began on", "date",
                      hint="Or give the duration below if the date is not known."),
            FormField("pain_duration_months", "Or: duration in months", "number", low=0,
                      high=1200),
            _pain("pain_nrs", "Average pain now (NRS)"),
            FormField("side", "Side", "choice", SIDES),
            FormField("onset", "How it began", "choice", _words((
                "trauma", "pregnancy", "post_lumbar_fusion", "insidious", "repetitive_stress",
                "other"))),
        )),
        Group("Where the pain is", (
            FormField("pain_areas.axial_low_back", "Axial low back (%)", "number", low=0,
                      high=100),
            FormField("pain_areas.sij_region", "SI-joint region (%)", "number", low=0, high=100,
                      hint="Between the iliac crest and the gluteal fold, off the midline."),
            FormField("pain_areas.buttock_leg", "Buttock and leg (%)", "number", low=0,
                      high=100),
            FormField("pain_areas.groin_anterior_thigh", "Groin and front of thigh (%)",
                      "number", low=0, high=100),
            FormField("below_l5", "Pain felt below L5", "tristate"),
            FormField("below_knee", "Pain reaches below the knee", "tristate"),
            FormField("fortin_finger", "Fortin finger test", "tristate",
                      hint=kb.examination.fortin_finger.how or ""),
        ), hint="Shares of the whole complaint; the shares given must sum to 100."),
        Group("What changes it", (
            FormField("aggravating", "Aggravated by", "multi", _words((
                "sitting", "sit_to_stand", "stairs", "turning_in_bed", "prolonged_standing",
                "walking", "bending", "running"))),
            FormField("relieving", "Relieved by", "multi", _words((
                "lying_knees_bent", "side_lying_pillow", "walking", "rest", "sij_belt",
                "heat"))),
        )),
        Group("Screening", (
            FormField("red_flags", "Red flags present", "multi",
                      tuple((f.id, f.name) for f in kb.screening.red_flags),
                      hint="Any red flag stops the SI-joint pathway for urgent work-up."),
            FormField("spa_features", "Inflammatory back pain features (NICE NG65)", "multi",
                      tuple(kb.screening.spondyloarthritis.features.items())),
            FormField("generalized_pain_disorder", "Generalised pain disorder (e.g. "
                      "fibromyalgia)", "tristate"),
            FormField("pregnant", "Pregnant", "tristate"),
        )),
    ), "What the patient reports. Leave anything not asked blank: it stays not recorded.")


ONE_SIDED_TESTS = ("gaenslen_left", "gaenslen_right")  # the side is in the test's name
FILL_NEGATIVE, FILL_NOT_PERFORMED = "negative", "not_performed"
EXAM_FILLS = ((FILL_NEGATIVE, "All tests negative"),
              (FILL_NOT_PERFORMED, "All tests not performed"))


def provocation_result(test: str) -> str:
    return f"provocation.{test}.result"


def _exam() -> RecordForm:
    kb = load_knowledge()
    fields, rows = [], []
    for t in kb.examination.provocation_tests:
        result = FormField(provocation_result(t.id), f"{t.name}: result", "radio", RESULT)
        familiar = FormField(f"provocation.{t.id}.familiar_pain",
                             f"{t.name}: reproduced the familiar pain", "tristate")
        side = (None if t.id in ONE_SIDED_TESTS else
                FormField(f"provocation.{t.id}.side", f"{t.name}: side tested", "choice", SIDES))
        fields += [f for f in (result, familiar, side) if f]
        rows.append(TableRow(t.name, t.how or "", (result.name, familiar.name,
                                                     side.name if side else None)))
    return RecordForm("exam", "Examination", (
        Group("Provocation tests", tuple(fields),
              hint="Positive only when the test reproduces the patient's familiar pain. "
                   "Leave a test on 'not performed' if it was not done.",
              columns=("Result", "Familiar pain", "Side tested"), rows=tuple(rows)),
        Group("Tenderness", (
            FormField("tenderness.psis", "Posterior superior iliac spine", "tristate"),
            FormField("tenderness.long_posterior_sacroiliac_ligament",
                      "Long posterior sacroiliac ligament", "tristate"),
            FormField("tenderness.sacrotuberous_ligament", "Sacrotuberous ligament",
                      "tristate"),
            FormField("tenderness.sacral_sulcus", "Sacral sulcus", "tristate"),
        )),
        Group("Other sources", (
            FormField("straight_leg_raise", "Straight-leg raise", "radio", RESULT),
            FormField("neuro_deficit", "Objective neurological deficit", "tristate",
                      hint="Dermatomal sensory loss, weakness or reflex change."),
            FormField("hip_rotation_pain", "Groin pain on hip internal rotation", "tristate"),
        )),
    ), fills=EXAM_FILLS)


def _block() -> RecordForm:
    diary = tuple(_pain(f"diary.{m}", "Baseline, before the block" if m == 0 else
                        f"{m} min after" if m < 60 else f"{m // 60} h after")
                  for m in load_knowledge().pathway.block_diary_minutes)
    return RecordForm("block", "Diagnostic block", (
        Group("The block", (
            FormField("date", "Date of the block", "date"),
            FormField("side", "Side", "choice", SIDES),
            FormField("target", "Target", "choice", _words(
                ("intra_articular", "periarticular", "extra_articular", "lateral_branch"))),
            FormField("guidance", "Image guidance", "choice", GUIDANCE,
                      hint="Only image-guided blocks count as diagnostic."),
            FormField("contrast", "Contrast used", "tristate"),
            FormField("agent", "Local anaesthetic", "choice", _words(
                ("lidocaine", "bupivacaine", "ropivacaine"))),
        )),
        Group("Pain diary", diary,
              hint="The patient's pain (0-10) before the injection and at each time after it. "
                   "Relief is read from the baseline and the lowest later rating."),
    ))


def _imaging() -> RecordForm:
    return RecordForm("imaging", "Imaging", (Group("Study", (
        FormField("date", "Date", "date"),
        FormField("modality", "Modality", "choice", (
            ("xray", "X-ray"), ("ct", "CT"), ("mri", "MRI"), ("ultrasound", "Ultrasound"),
            ("bone_scan", "Bone scan"), ("spect_ct", "SPECT-CT"))),
        FormField("region", "Region", "choice", (
            ("sij", "SI joints"), ("lumbar", "Lumbar spine"), ("pelvis", "Pelvis"),
            ("hip", "Hip"))),
        FormField("findings", "Findings", "multi", _words((
            "sclerosis", "erosions", "ankylosis", "bone_marrow_edema", "osteoarthritis",
            "vacuum_phenomenon"))),
        FormField("excludes_other_causes", "Excludes other causes of the pain", "tristate"),
    )),))


def _care_course() -> RecordForm:
    return RecordForm("care_course", "Conservative care", (Group("Course", (
        FormField("type", "Type", "choice", _words((
            "physical_therapy", "home_exercise", "nsaid", "chiropractic", "sij_belt",
            "acupuncture", "weight_loss"))),
        FormField("start", "Started on", "date"),
        FormField("end", "Ended on", "date", hint="Leave blank while it is ongoing."),
    )),))


def _procedure() -> RecordForm:
    return RecordForm("procedure", "Procedure", (
        Group("Procedure", (
            FormField("date", "Date", "date"),
            FormField("kind", "Procedure", "choice", (
                ("steroid_injection", "Steroid injection"), ("prolotherapy", "Prolotherapy"),
                ("prp", "Platelet-rich plasma"), ("rfa_conventional", "Radiofrequency "
                 "ablation, conventional"), ("rfa_cooled", "Radiofrequency ablation, cooled"),
                ("mis_fusion", "Minimally invasive SIJ fusion"))),
            FormField("side", "Side", "choice", SIDES),
            FormField("guidance", "Image guidance", "choice", GUIDANCE),
            FormField("injectate", "Injectate", "text",
                      hint="Drug, dose and volume, e.g. triamcinolone 40 mg + 1 ml "
                           "bupivacaine 0.25%."),
            FormField("complications", "Complications", "multi", _words((
                "vasovagal", "transient_numbness", "pain_flare", "bleeding", "infection"))),
        )),
        Group("Response", (
            FormField("relief_percent", "Relief (%)", "number", low=0, high=100),
            FormField("relief_weeks", "Relief lasted (weeks)", "number", low=0, high=1040),
            FormField("relief_ongoing", "Relief still ongoing", "tristate"),
        )),
    ))


def _procedure_outcome() -> RecordForm:
    return RecordForm("procedure_outcome", "Procedure outcome (follow-up)", (
        Group("Procedure", (
            FormField("procedure_id", "Procedure", "choice", whole=True,
                      hint="The procedure this follow-up is about."),
            FormField("date", "Followed up on", "date"),
        )),
        Group("Relief", (
            _pain("nrs_before", "Pain before the procedure (NRS)"),
            _pain("nrs_after", "Pain now (NRS)"),
            FormField("relief_percent", "Or relief (%)", "number", low=0, high=100,
                      hint="Computed from the two ratings when both are given."),
            FormField("relief_weeks", "Relief has lasted (weeks)", "number", low=0, high=1040),
            FormField("relief_ongoing", "Relief still ongoing", "tristate"),
        )),
        Group("Change and complications", (
            FormField("pgic", "Global impression of change (PGIC)", "choice", PGIC, whole=True),
            FormField("complications", "Complications", "multi", tuple(
                (code, label(code)) for code in complications())),
        )),
    ), "How the procedure worked out at this follow-up; record one at every follow-up.")


def _prom() -> RecordForm:
    odi = tuple(FormField(f"odi.{i}", f"{i}. {name}", "choice",
                          tuple((str(v), str(v)) for v in range(6)),
                          hint="0 (no disability) to 5", whole=True)
                for i, name in enumerate(ODI_SECTIONS, start=1))
    return RecordForm("prom", "Questionnaires (PROMs)", (
        Group("Date", (FormField("date", "Answered on", "date"),)),
        Group("Oswestry Disability Index (ODI 2.1a)", odi,
              hint="The score (0-5) the patient chose in each section; leave a section blank "
                   "if unanswered."),
        Group("Pain and change", (
            _pain("nrs", "Pain NRS"),
            FormField("pgic", "Global impression of change (PGIC)", "choice", PGIC, whole=True),
        )),
    ), "Fill in whichever questionnaires were answered; each becomes its own entry.")


def _medications() -> RecordForm:
    return RecordForm("medications", "Medications and allergies", (
        Group("Medications", (
            FormField("anticoagulant", "Takes an anticoagulant", "tristate"),
            FormField("anticoagulant_plan", "Peri-procedural anticoagulation plan documented",
                      "tristate", asked_when=("anticoagulant", "yes"),
                      hint="Asked when an anticoagulant is taken: hold or bridge agreed with "
                           "the prescriber. Ablation and fusion wait for it."),
        )),
        Group("Allergies", (FormField("allergies", "Allergies", "multi", _words((
            "contrast", "local_anesthetic", "corticosteroid", "latex"))),)),
    ))


@cache
def record_forms() -> dict[str, RecordForm]:
    """Every record kind's form, keyed like the store's RECORD_KINDS."""
    forms = [_intake(), _exam(), _imaging(), _care_course(), _block(), _procedure(), _prom(),
             _medications(), _procedure_outcome()]
    return {f.kind: replace(f, groups=(*f.groups, Group("Visit", (RECORDED_ON,))))
            for f in forms}


PREGNANCY = "pregnant"
NOT_PREGNANT_SEXES = ("male",)  # pregnancy is not asked of these patients


def asked_of(form: RecordForm, sex: str) -> RecordForm:
    """The form as asked of a patient of `sex`: no pregnancy question where it cannot apply."""
    if sex in NOT_PREGNANT_SEXES:
        return form.without({PREGNANCY, FIRST_VISIT_PARTS[0][0] + "." + PREGNANCY})
    return form


# What a new visit's form starts from: the facts that stay true between visits (when the pain
# began, its side and pattern, medications and allergies). Pain scores, the red-flag screen,
# pregnancy and the anticoagulation plan (agreed for a procedure) are asked afresh every time.
CARRIED_FORWARD: dict[str, tuple[str, ...]] = {
    "intake": ("pain_onset", "pain_duration_months", "side", "onset", "aggravating",
               "relieving", "spa_features", "generalized_pain_disorder"),
    "medications": ("anticoagulant", "allergies"),
}

# The first visit in one form: (record kind, section title), in the order a visit runs.
FIRST_VISIT_PARTS = (("intake", "History"), ("exam", "Examination"),
                     ("prom", "Questionnaires"), ("medications", "Medications and allergies"),
                     ("care_course", "Conservative care so far"))
FIRST_VISIT = "first_visit"


@cache
def first_visit_form() -> RecordForm:
    """Intake, examination, questionnaires, medications and care in one form, saved whole.

    Each input is named `<kind>.<path>`; the questionnaires are dated by the visit itself.
    """
    forms = record_forms()
    groups = []
    for kind, section in FIRST_VISIT_PARTS:
        for group in forms[kind].groups:
            if group.legend in ("Visit", "Date"):
                continue
            groups.append(group.prefixed(kind + ".", section))
    return RecordForm(FIRST_VISIT, "First visit", (*groups, Group("Visit", (RECORDED_ON,))),
                      "Everything of a new patient's first visit; it is saved whole or not at "
                      "all. Leave anything not asked blank: it stays not recorded.",
                      fills=EXAM_FILLS)


def patient_fields(clinics: Choices) -> list[FormField]:
    """Registration; the clinic is asked only of users who work in more than one."""
    fields = [
        FormField("family_name", "Family name", "text"),
        FormField("given_name", "Given name", "text"),
        FormField("birth_date", "Date of birth", "date"),
        FormField("sex", "Sex", "choice", (("female", "Female"), ("male", "Male"),
                                           ("other", "Other"), ("unknown", "Unknown"))),
        FormField("external_id", "Clinic number (MRN)", "text",
                  hint="Optional; unique within the clinic."),
        FormField("payer", "Payer", "choice",
                  tuple((p.id, p.name) for p in load_knowledge().policies.values()),
                  hint="Selects the policy the patient's episodes are assessed under."),
        FormField("phone", "Phone", "text", hint="Optional; like +41 79 123 45 67."),
        FormField("email", "Email", "text", hint="Optional; like name@example.org."),
        FormField("address", "Postal address", "text", hint="Optional; one line."),
    ]
    if len(clinics) > 1:
        fields.append(FormField("clinic_id", "Clinic", "choice", clinics))
    return fields


CORRECTION_REASON = FormField("reason", "Reason for the correction", "text",
                              hint="E.g. date of birth mistyped at registration. The old value "
                                   "is kept.")
CLOSING = FormField("closed_on", "Closed on", "date")

EPISODE_FIELDS = [
    FormField("complaint", "Complaint", "text", hint="E.g. left buttock pain since a fall."),
    FormField("opened_on", "Opened on", "date"),
]
