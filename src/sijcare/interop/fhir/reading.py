"""Reading what a hospital sends: a transaction or collection Bundle, or Bulk Data NDJSON, as a
list of resources whose references all point at ids in that list.

A file that cannot be read whole (not JSON, not a Bundle or NDJSON of resources, a reference
to nothing, too large) is refused with one `BadFile` naming where, before anything is
written. `urn:uuid` references and conditional references (`Patient?identifier=sys|value`)
are rewritten to `Type/id` of the resource they name in the file; a conditional reference to
something the file does not hold (a practitioner, a payer) is left as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from sijcare.interop.fhir.base import Resource, objects

MAX_BYTES = 50 * 1024 * 1024  # one file; a Synthea patient's whole life is 0.1-2 MB
BUNDLE_TYPES = ("transaction", "collection", "batch", "searchset")
# References that tie a resource to its patient: one to a patient the file lacks is broken.
SUBJECT_KEYS = ("subject", "patient")


class BadFile(ValueError):
    """The file cannot be imported at all; the message names the file and where."""


@dataclass(frozen=True)
class Received:
    """The resources of one file, each with its place in it (`x.json: entry 3`)."""

    name: str
    resources: list[tuple[str, Resource]]


def read_file(path: Path, limit: int = MAX_BYTES) -> Received:
    size = path.stat().st_size
    if size > limit:
        raise BadFile(f"{path.name}: {size:,} bytes is more than the {limit:,} a file may have")
    return read_bytes(path.name, path.read_bytes(), limit)


def read_bytes(name: str, data: bytes, limit: int = MAX_BYTES) -> Received:
    if len(data) > limit:
        raise BadFile(f"{name}: {len(data):,} bytes is more than the {limit:,} a file may have")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadFile(f"{name}: not UTF-8 text (byte {error.start})") from None
    placed = list(_resources(name, text))
    if not placed:
        raise BadFile(f"{name}: holds no resources")
    for where, resource in placed:
        _known_type(name, where, resource)
    return Received(name, [(f"{name}: {where}", resource) for where, resource in placed])


def resolved(files: list[Received]) -> list[tuple[str, Resource]]:
    """The resources of files read together (Bulk Data keeps each type in its own file),
    their references resolved among them all."""
    placed = [item for file in files for item in file.resources]
    _resolve(placed)
    return placed


def _resources(name: str, text: str) -> Iterator[tuple[str, Resource]]:
    """A `.ndjson` file holds a resource a line; any other file one Bundle."""
    if not name.endswith(".ndjson"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise BadFile(f"{name}: not valid JSON (line {error.lineno}, column {error.colno}: "
                          f"{error.msg})") from None
        yield from _bundle_entries(name, document)
        return
    for number, line in enumerate(text.splitlines(), start=1):  # NDJSON: a resource a line
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except json.JSONDecodeError as error:
            raise BadFile(f"{name}: line {number} is not valid JSON ({error.msg})") from None
        if isinstance(resource, dict) and resource.get("resourceType") == "Bundle":
            raise BadFile(f"{name}: line {number}: a Bundle inside NDJSON; send Bundles as "
                          "files of their own")
        yield f"line {number}", resource


def _bundle_entries(name: str, document: object) -> Iterator[tuple[str, Resource]]:
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        kind = document.get("resourceType") if isinstance(document, dict) else None
        raise BadFile(f"{name}: resourceType is {kind!r}; expected a Bundle (transaction or "
                      "collection) or NDJSON")
    if document.get("type") not in BUNDLE_TYPES:
        raise BadFile(f"{name}: Bundle.type is {document.get('type')!r}; one of: "
                      f"{', '.join(BUNDLE_TYPES)}")
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        raise BadFile(f"{name}: Bundle.entry is not a list")
    for number, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise BadFile(f"{name}: entry {number}: has no resource")
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
            resource = {**resource, "_fullUrl": full_url}
        yield f"entry {number}", resource


def _known_type(name: str, where: str, resource: object) -> None:
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if not isinstance(kind, str):
        raise BadFile(f"{name}: {where}: not a FHIR resource (no resourceType)")
    if not _is_resource_type(kind):
        raise BadFile(f"{name}: {where}: '{kind}' is not a FHIR R4 resource type")


@lru_cache(maxsize=256)
def _is_resource_type(kind: str) -> bool:
    """Asked once per type name (finding a model class costs more than reading a resource)."""
    try:
        get_fhir_model_class(kind)
    except (KeyError, ValueError, AttributeError, ImportError):
        return False
    return True


def identifiers(resource: Resource) -> list[str]:
    """`system|value` of each of the resource's identifiers."""
    found = resource.get("identifier")
    return [f"{i.get('system', '')}|{i['value']}"
            for i in ([found] if isinstance(found, dict) else objects(found))
            if isinstance(i.get("value"), str)]


def _resolve(placed: list[tuple[str, Resource]]) -> None:
    """Give every resource an id and rewrite urn:uuid and conditional references to it."""
    by_url: dict[str, str] = {}
    by_identifier: dict[tuple[str, str], str] = {}
    for where, resource in placed:
        url = resource.pop("_fullUrl", None)
        if "id" not in resource:
            resource["id"] = (url.removeprefix("urn:uuid:") if url
                              else where.rsplit(": ", 1)[-1].replace(" ", "-"))
        local = f"{resource['resourceType']}/{resource['id']}"
        if url:
            by_url[url] = local
        for identifier in identifiers(resource):
            by_identifier[(resource["resourceType"], identifier)] = local
    held = {f"{r['resourceType']}/{r['id']}" for _, r in placed}
    for where, resource in placed:
        for holder in _references(resource):
            target = holder["reference"]
            if target.startswith("urn:uuid:"):
                if target not in by_url:
                    raise BadFile(f"{where}: reference {target} names no entry of "
                                  "the file")
                holder["reference"] = by_url[target]
            elif "?identifier=" in target:
                kind, _, wanted = target.partition("?identifier=")
                if (kind, wanted) in by_identifier:
                    holder["reference"] = by_identifier[(kind, wanted)]
        for key in SUBJECT_KEYS:
            subject = resource.get(key)
            if (isinstance(subject, dict) and isinstance(subject.get("reference"), str)
                    and subject["reference"].startswith("Patient")
                    and _local(subject["reference"]) not in held):
                raise BadFile(f"{where}: {resource['resourceType']}.{key} names "
                              f"{subject['reference']}, which the file does not hold")


def _local(reference: str) -> str:
    """`Patient/12` of `https://host/fhir/Patient/12` or `Patient/12/_history/2`."""
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[:parts.index("_history")]
    return "/".join(parts[-2:])


def _references(node: Any) -> Iterator[dict[str, Any]]:
    """Every `{"reference": "..."}` inside a resource."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def reference_id(holder: object) -> str | None:
    """`Type/id` a reference names, or None."""
    if isinstance(holder, dict) and isinstance(holder.get("reference"), str):
        return _local(holder["reference"])
    return None
