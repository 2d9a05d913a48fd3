"""Who may do what: roles map to permissions; patients are visible through clinic membership.

- clinician: everything clinical for patients of their clinics: read, record, assess, sign.
- staff (reception): find and register patients, open episodes; sees demographics only,
  never the clinical record, the timeline or an assessment.
- researcher: no identifiable patient page at all; may run anonymous cases through the
  engine (`POST /api/v1/assess`).
- admin: manages user accounts; no patient data (least privilege: an admin who also treats
  patients gets a clinician account).

A clinician account an admin created reads no patient until a second admin approves it
(`awaiting_approval`); a user who must enrol a second factor does nothing else first.

A patient of a clinic the user does not belong to answers 404, not 403, so that probing
ids reveals nothing about which patients exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    clinician = "clinician"
    staff = "staff"
    researcher = "researcher"
    admin = "admin"


class Permission(StrEnum):
    demographics_read = "demographics_read"
    patient_register = "patient_register"
    clinical_read = "clinical_read"
    clinical_write = "clinical_write"
    assessment_sign = "assessment_sign"
    case_assess = "case_assess"
    users_manage = "users_manage"
    research_export = "research_export"  # de-identified rows of every clinic, for research


P = Permission
PATIENT_PERMISSIONS = frozenset({P.demographics_read, P.patient_register, P.clinical_read,
                                 P.clinical_write, P.assessment_sign})
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.clinician: frozenset({P.demographics_read, P.patient_register, P.clinical_read,
                               P.clinical_write, P.assessment_sign, P.case_assess}),
    Role.staff: frozenset({P.demographics_read, P.patient_register}),
    Role.researcher: frozenset({P.case_assess, P.research_export}),
    Role.admin: frozenset({P.users_manage}),
}


@dataclass(frozen=True)
class Actor:
    """The signed-in user as the web layer sees them: id, role and visible clinics."""

    id: int
    username: str
    role: Role
    clinic_ids: frozenset[int]
    must_change_password: bool = False  # after an admin's reset: nothing else until changed
    must_enrol_second_factor: bool = False  # required of admins and some clinics' clinicians
    awaiting_approval: bool = False  # created by one admin, not yet approved by another

    def may(self, permission: Permission) -> bool:
        if self.awaiting_approval and permission in PATIENT_PERMISSIONS:
            return False
        return permission in ROLE_PERMISSIONS[self.role]

    def sees_clinic(self, clinic_id: int) -> bool:
        return clinic_id in self.clinic_ids
