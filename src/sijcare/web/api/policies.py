"""The policy a request names: any profile in the knowledge base, listed as an enum in the
OpenAPI document so a client sees its choices (anything else answers 422 naming `policy`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from sijcare.engine import DEFAULT_POLICY
from sijcare.knowledge import load_knowledge

PolicyId = Literal[tuple(sorted(load_knowledge().policies))]  # type: ignore[valid-type]
Policy = Annotated[PolicyId, Query(description="The payer's or the clinic's policy to assess "  # type: ignore[valid-type]
                                               f"under (default {DEFAULT_POLICY}).")]
