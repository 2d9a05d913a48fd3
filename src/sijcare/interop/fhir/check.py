"""The edge check: what leaves as FHIR parses as HL7's R4B models (`fhir.resources.R4B`).

A model costs forty times the JSON it checks, so the single-patient ways out (a Bundle file,
an HTTP answer) are checked here and the bulk export is checked by the test suite.
"""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from sijcare.interop.fhir.base import Resource


class InvalidResource(ValueError):
    """A resource sijcare built does not parse as FHIR: a bug, reported in one line."""


def checked(resource: Resource) -> Resource:
    """The resource, once its R4B model accepts it; InvalidResource naming the problem."""
    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidResource(f"{resource['resourceType']}/{resource.get('id')}: {where}: "
                              f"{first['msg']}") from None
    return resource
