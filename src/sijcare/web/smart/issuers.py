"""The EHRs sijcare may be launched from, as a SMART confidential client of each.

`SIJCARE_SMART_ISSUERS` names a JSON file keyed by the EHR's FHIR base URL (the `iss` of a
launch): `{"<iss>": {"client_id": "...", "client_secret": "...", "users": {"<fhirUser>":
"<sijcare username>"}}}`. `users` maps the EHR's user (the id token's `fhirUser`, relative
like `Practitioner/123` or absolute) to the sijcare account it signs in as; an EHR user
not listed is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class SmartIssuersError(ValueError):
    """The issuers file is missing or malformed; the message names the place."""


@dataclass(frozen=True)
class SmartIssuer:
    iss: str
    client_id: str
    client_secret: str
    users: dict[str, str]

    def username_of(self, fhir_user: str) -> str | None:
        """The sijcare account of an EHR user, by its reference relative or absolute."""
        relative = fhir_user.removeprefix(self.iss.rstrip("/") + "/")
        return self.users.get(fhir_user) or self.users.get(relative)


def load_smart_issuers(path: Path | None) -> dict[str, SmartIssuer]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SmartIssuersError(f"SIJCARE_SMART_ISSUERS: cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise SmartIssuersError("SIJCARE_SMART_ISSUERS: the file must hold an object")
    found = {}
    for iss, entry in data.items():
        where = f"SIJCARE_SMART_ISSUERS: issuer {iss!r}"
        if not iss.startswith(("https://", "http://")) or not isinstance(entry, dict):
            raise SmartIssuersError(f"{where} must be a FHIR base URL with an object")
        for key in ("client_id", "client_secret"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise SmartIssuersError(f"{where}: '{key}' is required")
        users = entry.get("users", {})
        if not isinstance(users, dict) or not all(isinstance(v, str) for v in users.values()):
            raise SmartIssuersError(f"{where}: 'users' maps EHR users to usernames")
        found[iss.rstrip("/")] = SmartIssuer(iss.rstrip("/"), entry["client_id"],
                                             entry["client_secret"], users)
    return found
