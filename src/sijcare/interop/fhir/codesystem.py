"""sijcare's own CodeSystem, published as a resource: every code of the vocabulary (tests,
red flags, stages, options...) with its one label from `labels.yaml`, so a receiver can
read every code the export uses that no standard system has."""

from __future__ import annotations

from sijcare import __version__
from sijcare.interop.fhir.base import Resource, meta
from sijcare.knowledge import load_knowledge
from sijcare.knowledge.terminology import load_terminology
from sijcare.labels import labels


def code_system() -> Resource:
    concepts = [{"code": code, "display": shown} for code, shown in sorted(labels().items())]
    return {
        "resourceType": "CodeSystem", "id": "sijcare", "meta": meta("codesystem"),
        "url": load_terminology().codesystem, "version": load_knowledge().version,
        "name": "Sijcare", "title": "sijcare vocabulary", "status": "active",
        "publisher": f"sijcare {__version__}", "caseSensitive": True,
        "content": "complete", "count": len(concepts), "concept": concepts,
    }
