"""The research export from the registry page, for researchers: the de-identified tables
(`analytics/export.py`, the same as `sijcare export research`) as one zip, audited as an
export. Clinicians see their clinics' aggregates on the page but never download row data."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sijcare.analytics.export import default_key_path, export_key, export_research
from sijcare.store import record_export
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.deps import DbSession, require

router = APIRouter(include_in_schema=False)
Researcher = Annotated[Actor, Depends(require(Permission.research_export))]


@router.get("/registry/research-export.zip", name="registry.research_export")
def research_export(db: DbSession, actor: Researcher) -> Response:
    key = export_key(default_key_path())
    with tempfile.TemporaryDirectory() as workdir:
        directory = Path(workdir) / "export"
        counts = export_research(db.connection(), directory, key)
        packed = io.BytesIO()
        with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in directory.rglob("*") if p.is_file()):
                archive.write(path, path.relative_to(directory).as_posix())
    record_export(db, actor.id, "research_export", via="registry.research_export",
                  detail={"rows": counts})
    return Response(packed.getvalue(), media_type="application/zip", headers={
        "Content-Disposition": 'attachment; filename="sijcare-research-export.zip"'})
