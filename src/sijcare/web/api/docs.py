"""The API reference at /api/docs, rendered here from the OpenAPI schema: no CDN assets."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)


def _schema_name(node: dict | None) -> str:
    """`{"$ref": "#/components/schemas/Case"}` -> `Case`; inline schemas by their type."""
    if not node:
        return ""
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1]
    if node.get("type") == "array":
        return f"list of {_schema_name(node.get('items'))}"
    if "anyOf" in node:
        return " or ".join(_schema_name(n) for n in node["anyOf"])
    return node.get("type", "object")


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    spec = request.app.openapi()
    operations = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            body_schema = next(iter(body.values()), {}).get("schema") if body else None
            operations.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "tag": (op.get("tags") or [""])[0],
                "parameters": [(p["name"], p["in"], p.get("required", False),
                                _schema_name(p.get("schema")), p.get("description", ""))
                               for p in op.get("parameters", [])],
                "body": _schema_name(body_schema),
                "responses": [(code, r.get("description", ""),
                               _schema_name(next(iter(r.get("content", {}).values()), {})
                                            .get("schema")))
                              for code, r in op.get("responses", {}).items()],
            })
    schemas = spec.get("components", {}).get("schemas", {})
    return render(request, "api/docs.html", {"operations": operations, "schemas": schemas,
                                             "title": spec["info"]["title"],
                                             "version": spec["info"]["version"]})
