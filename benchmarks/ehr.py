"""What an EHR sends a CDS Hooks service, for the benchmarks: its issuer's key (allow-listed
in a SIJCARE_CDS_ISSUERS file), a token signed for each call, and the prefetch filled from a
patient's resources."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ISSUER = "https://ehr.bench"


def issuer(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, Path]:
    """A new ES384 key and the issuers file that allows it (for SIJCARE_CDS_ISSUERS)."""
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = {**json.loads(ECAlgorithm.to_jwk(key.public_key())), "kid": "bench", "alg": "ES384"}
    issuers = directory / "issuers.json"
    issuers.write_text(json.dumps({ISSUER: {"jwks": {"keys": [jwk]}}}))
    return key, issuers


def token(key: ec.EllipticCurvePrivateKey, audience: str) -> str:
    """A token for one call to `audience` (the exact endpoint URL), with a jti of its own."""
    now = int(time.time())
    return jwt.encode({"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 600,
                       "jti": str(uuid.uuid4())}, key, algorithm="ES384",
                      headers={"kid": "bench", "typ": "JWT"})


def prefetch_of(resources: list[dict], templates: dict[str, str]) -> dict:
    """Every template's key filled from the patient's resources, as an EHR prefetches."""
    found = {}
    for name, template in templates.items():
        kind = template.split("?")[0].split("/")[0]
        matches = [r for r in resources if r["resourceType"] == kind]
        found[name] = (matches[0] if matches else None) if name == "patient" else {
            "resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r} for r in matches]}
    return found
