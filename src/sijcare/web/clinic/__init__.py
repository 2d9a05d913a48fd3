"""The clinic's pages for clinicians and staff: patients, episodes and their records, the
signed assessments, the worklist, the appointment inbox, the registry and reports, merging
records of one person, FHIR imports and their review, and what clinicians did with sijcare's
cards in the EHR."""

from sijcare.web.clinic import (
    break_glass,
    cds_overrides,
    course_chart,
    documents,
    ehr_import,
    episodes,
    home,
    imports,
    inbox,
    merges,
    patients,
    presenters,
    recent,
    records,
    registry,
    reports,
    research_export,
    review,
    signed,
    worklist,
)
from sijcare.web.templating import templates

ROUTERS = (home.router, patients.router, episodes.router, records.router, signed.router,
           inbox.router, registry.router, reports.router, worklist.router, break_glass.router,
           cds_overrides.router, merges.router, imports.router, ehr_import.router,
           review.router, recent.router, documents.router, research_export.router)
# the clinic's templates read its presenters (statuses, sources, stages) and draw the chart
templates.env.globals.update(presenters.TEMPLATE_GLOBALS, course_chart=course_chart.course_chart)
