"""Who may open each route of the app: one declaration per (method, path).

`test_access_matrix.py` generates its requests from the app's route table and fails on a
route missing here, so a new route cannot escape the matrix. A declaration says what the
route needs:

- `PUBLIC`: anyone, signed in or not (sign-in pages, the patient site, links whose token is
  the credential); the matrix checks only that no role makes it fail (5xx).
- `SIGNED_IN`: any signed-in, active user (their own account pages, the start page).
- a `Permission`: a role holding it; `scoped=True` when the path names a patient, an episode
  or an appointment request, which must also belong to one of the user's clinics (else 404).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sijcare.web.auth.access import Permission

P = Permission
PUBLIC, SIGNED_IN = "public", "signed_in"


@dataclass(frozen=True)
class Rule:
    need: str | Permission
    scoped: bool = False
    # statuses that are the route's own answer to the matrix's empty request, not a refusal
    # (the confirm page answers a missing password with 401 as the sign-in does)
    own_answers: frozenset[int] = field(default_factory=frozenset)
    query: str = ""  # what the matrix adds to the URL, with the same placeholders


def scoped(permission: Permission, query: str = "") -> Rule:
    return Rule(permission, True, query=query)


RULES: dict[tuple[str, str], Rule] = {
    # sign-in, sign-out and the session
    ("GET", "/login"): Rule(PUBLIC), ("POST", "/login"): Rule(PUBLIC),
    ("GET", "/login/code"): Rule(PUBLIC), ("POST", "/login/code"): Rule(PUBLIC),
    ("POST", "/logout"): Rule(PUBLIC),
    ("GET", "/api/v1/session"): Rule(PUBLIC), ("POST", "/api/v1/session"): Rule(PUBLIC),
    ("DELETE", "/api/v1/session"): Rule(PUBLIC),
    ("GET", "/api/v1/health"): Rule(PUBLIC), ("GET", "/api/docs"): Rule(PUBLIC),
    ("GET", "/api/openapi.json"): Rule(PUBLIC), ("HEAD", "/api/openapi.json"): Rule(PUBLIC),
    # one's own account
    ("GET", "/"): Rule(SIGNED_IN),
    ("GET", "/account/password"): Rule(SIGNED_IN), ("POST", "/account/password"): Rule(SIGNED_IN),
    ("GET", "/account/two-factor"): Rule(SIGNED_IN),
    ("POST", "/account/two-factor"): Rule(SIGNED_IN),
    ("GET", "/account/confirm"): Rule(SIGNED_IN),
    ("POST", "/account/confirm"): Rule(SIGNED_IN, own_answers=frozenset({401})),
    # administration
    ("GET", "/admin/users"): Rule(P.users_manage), ("POST", "/admin/users"): Rule(P.users_manage),
    ("POST", "/admin/users/{user_id}/deactivate"): Rule(P.users_manage),
    ("POST", "/admin/users/{user_id}/reactivate"): Rule(P.users_manage),
    ("POST", "/admin/users/{user_id}/password"): Rule(P.users_manage),
    ("POST", "/admin/users/{user_id}/approve"): Rule(P.users_manage),
    ("POST", "/admin/users/{user_id}/two-factor/reset"): Rule(P.users_manage),
    ("POST", "/admin/clinics/{clinic_id}/time-zone"): Rule(P.users_manage),
    ("POST", "/admin/clinics/{clinic_id}/second-factor"): Rule(P.users_manage),
    ("GET", "/admin/merges"): Rule(P.users_manage),
    # no merge in the matrix's world: the admin's answer is "no such merge"
    ("POST", "/admin/merges/{merge_id}/unmerge"): Rule(P.users_manage,
                                                      own_answers=frozenset({404})),
    ("GET", "/admin/users/{user_id}"): Rule(P.users_manage),
    ("POST", "/admin/users/{user_id}"): Rule(P.users_manage),
    ("GET", "/admin/users/{user_id}/deactivate"): Rule(P.users_manage),
    ("POST", "/admin/users/{user_id}/unlock"): Rule(P.users_manage),
    # patients and episodes: pages
    ("GET", "/patients"): Rule(P.demographics_read),
    ("GET", "/patients/new"): Rule(P.patient_register),
    ("POST", "/patients"): Rule(P.patient_register),
    ("GET", "/patients/{patient_id}"): scoped(P.demographics_read),
    ("GET", "/patients/{patient_id}/edit"): scoped(P.patient_register),
    ("POST", "/patients/{patient_id}/edit"): scoped(P.patient_register),
    ("POST", "/patients/{patient_id}/episodes"): scoped(P.patient_register),
    ("GET", "/patients/{patient_id}/merge"): scoped(P.clinical_write, query="into={patient_id}"),
    ("POST", "/patients/{patient_id}/merge"): scoped(P.clinical_write),
    ("GET", "/episodes/{episode_id}"): scoped(P.clinical_read),
    # reviewing imported records (issue 23): clinicians of the patient's clinic only
    ("GET", "/episodes/{episode_id}/review"): scoped(P.clinical_write),
    ("POST", "/episodes/{episode_id}/review"): scoped(P.clinical_write),
    ("GET", "/episodes/{episode_id}/note"): scoped(P.clinical_read),
    ("GET", "/episodes/{episode_id}/course-chart.svg"): scoped(P.clinical_read),
    ("GET", "/episodes/{episode_id}/report.pdf"): scoped(P.clinical_read),
    ("GET", "/episodes/{episode_id}/prior-auth.pdf"): scoped(P.clinical_read),
    ("GET", "/episodes/{episode_id}/signed/{signed_id}"): scoped(P.clinical_read),
    ("POST", "/episodes/{episode_id}/signed/{signed_id}/addenda"): scoped(P.assessment_sign),
    ("GET", "/episodes/{episode_id}/signed/{signed_id}/assessment.pdf"):
        scoped(P.clinical_read),
    ("GET", "/patients/{patient_id}/medication-list"): scoped(P.clinical_write),
    ("POST", "/patients/{patient_id}/medication-list"): scoped(P.clinical_write),
    ("GET", "/patients/{patient_id}/documents"): scoped(P.clinical_read),
    ("POST", "/patients/{patient_id}/documents"): scoped(P.clinical_write),
    ("GET", "/patients/{patient_id}/documents/{document_id}"): scoped(P.clinical_read),
    ("GET", "/recent"): Rule(P.demographics_read),
    ("POST", "/episodes/{episode_id}/sign"): scoped(P.assessment_sign),
    ("GET", "/episodes/{episode_id}/records/{kind}"): scoped(P.clinical_write),
    ("POST", "/episodes/{episode_id}/records/{kind}"): scoped(P.clinical_write),
    ("POST", "/episodes/{episode_id}/records/{kind}/{record_id}/void"):
        scoped(P.clinical_write),
    ("GET", "/episodes/{episode_id}/notes/new"): scoped(P.clinical_write),
    ("POST", "/episodes/{episode_id}/notes"): scoped(P.clinical_write),
    ("POST", "/episodes/{episode_id}/close"): scoped(P.patient_register),
    ("POST", "/episodes/{episode_id}/reopen"): scoped(P.patient_register),
    ("POST", "/episodes/{episode_id}/follow-up/{point_id}/send"): scoped(P.clinical_write),
    ("POST", "/episodes/{episode_id}/follow-up/{point_id}/link"): scoped(P.clinical_write),
    ("GET", "/break-glass"): Rule(P.clinical_read), ("POST", "/break-glass"): Rule(P.clinical_read),
    # the clinic's lists
    ("GET", "/inbox"): Rule(P.demographics_read),
    ("GET", "/inbox/{request_id}"): scoped(P.demographics_read),
    ("POST", "/inbox/{request_id}/status"): scoped(P.patient_register),
    ("POST", "/inbox/{request_id}/register"): scoped(P.patient_register),
    ("GET", "/worklist"): Rule(P.clinical_read),
    ("GET", "/worklist/response-rates"): Rule(P.clinical_read),
    # importing FHIR files (issue 23): clinicians, into their own clinics
    ("GET", "/imports/fhir"): Rule(P.clinical_write),
    ("POST", "/imports/fhir"): Rule(P.clinical_write),
    ("POST", "/imports/fhir/confirm"): Rule(P.clinical_write),
    # no upload in the matrix's world: a clinician's answer is "no such upload of yours"
    ("GET", "/imports/fhir/report.csv"): Rule(P.clinical_write, own_answers=frozenset({404})),
    ("GET", "/imports/review"): Rule(P.clinical_write),
    # the patient of a SMART launch, imported from the EHR: no launch in the matrix's world,
    # so a clinician's answer is "no launch of yours waits"
    ("GET", "/imports/ehr"): Rule(P.clinical_write, own_answers=frozenset({404})),
    ("POST", "/imports/ehr"): Rule(P.clinical_write, own_answers=frozenset({404})),
    ("GET", "/registry"): Rule(P.case_assess), ("GET", "/registry/report.pdf"): Rule(P.case_assess),
    ("GET", "/registry/research-export.zip"): Rule(P.research_export),
    # the JSON API
    ("GET", "/api/v1/patients"): Rule(P.demographics_read),
    ("POST", "/api/v1/patients"): Rule(P.patient_register),
    ("POST", "/api/v1/assess"): Rule(P.case_assess),
    ("GET", "/api/v1/follow-up/response-rates"): Rule(P.clinical_read),
    ("GET", "/api/v1/patients/{patient_id}"): scoped(P.demographics_read),
    ("GET", "/api/v1/patients/{patient_id}/episodes"): scoped(P.demographics_read),
    ("POST", "/api/v1/patients/{patient_id}/episodes"): scoped(P.patient_register),
    ("GET", "/api/v1/episodes/{episode_id}"): scoped(P.clinical_read),
    ("GET", "/api/v1/episodes/{episode_id}/assessment"): scoped(P.clinical_read),
    ("GET", "/api/v1/episodes/{episode_id}/records"): scoped(P.clinical_read),
    ("POST", "/api/v1/episodes/{episode_id}/signatures"): scoped(P.assessment_sign),
    ("POST", "/api/v1/episodes/{episode_id}/records/{kind}"): scoped(P.clinical_write),
    ("POST", "/api/v1/episodes/{episode_id}/records/{kind}/{record_id}/void"):
        scoped(P.clinical_write),
    # FHIR (the CapabilityStatement is open: clients read it before signing in)
    ("GET", "/fhir/metadata"): Rule(PUBLIC),
    ("GET", "/fhir/Patient"): Rule(P.clinical_read),
    ("GET", "/fhir/Patient/{patient_id}"): scoped(P.clinical_read),
    ("GET", "/fhir/Patient/{patient_id}/$everything"): scoped(P.clinical_read),
    ("GET", "/fhir/Observation"): scoped(P.clinical_read, query="patient={patient_id}"),
    ("GET", "/fhir/Questionnaire"): Rule(P.clinical_read),
    ("GET", "/fhir/Questionnaire/{questionnaire_id}"): Rule(P.clinical_read),
    ("GET", "/fhir/CodeSystem/sijcare"): Rule(P.clinical_read),
    # what clinicians did with sijcare's cards in the EHR (CDS Hooks feedback): no patient
    ("GET", "/cds-overrides"): Rule(P.clinical_read),
    # CDS Hooks and the SMART launch: no session, the EHR's credentials (a signed JWT on
    # every call, the authorization server's code); tested in tests/cds_hooks and tests/smart
    **{(method, path): Rule(PUBLIC) for method, path in (
        ("GET", "/cds-services"), ("POST", "/cds-services/{service_id}"),
        ("POST", "/cds-services/{service_id}/feedback"),
        ("GET", "/smart/launch"), ("GET", "/smart/callback"))},
    # the patient site, and links whose token is the credential
    **{(method, path): Rule(PUBLIC) for method, path in (
        ("GET", "/learn"), ("GET", "/learn/sources"), ("GET", "/learn/{slug}"),
        ("GET", "/learn/{slug}/handout.pdf"), ("GET", "/screen"),
        ("POST", "/screen/warning-signs"), ("POST", "/screen/result"),
        ("GET", "/appointment"), ("POST", "/appointment"),
        ("POST", "/appointment/with-self-check"), ("GET", "/appointment/sent"),
        ("GET", "/newsletter"), ("POST", "/newsletter"),
        ("GET", "/newsletter/check-your-email"), ("GET", "/newsletter/{action}/{token}"),
        ("POST", "/newsletter/{action}"),
        ("GET", "/q/{token}"), ("POST", "/q/{token}"),
        ("GET", "/q/stop/{token}"), ("POST", "/q/stop/{token}"))},
}
