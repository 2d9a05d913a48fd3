"""A clinic app with the CDS Hooks service configured: two EHR issuers with keys the tests
generate (ES384 inline, RS384 served at a key-set URL by a real local HTTP server), the demo
patients, and helpers to sign tokens and post hooks with the patients' resources prefetched.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy.orm import Session

from sijcare.interop.fhir.export import patient_resources
from sijcare.store import Membership, load_demo
from sijcare.web import Settings, create_app
from sijcare.web.cds_hooks.prefetch import TEMPLATES
from tests.cds_hooks.fhir_server import FhirServer
from tests.web.conftest import World, build_world

FIXTURES = Path(__file__).parent / "fixtures"
PUBLIC_URL = "https://sijcare.test"
EHR, ROTATING = "https://ehr.test", "https://rotating-ehr.test"
DEMO_DAY = dt.date.today()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Signer:
    """An EHR's private key, with its public JWK."""

    key: Any
    alg: str
    kid: str

    @property
    def jwk(self) -> dict[str, Any]:
        algorithm = ECAlgorithm if self.alg.startswith("ES") else RSAAlgorithm
        found = json.loads(algorithm.to_jwk(self.key.public_key()))
        return {**found, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def token(self, aud: str, iss: str = EHR, header: dict | None = None,
              **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": iss, "aud": aud, "exp": now + 300, "iat": now,
                   "jti": str(uuid.uuid4()), "sub": "ehr-client", **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.key, algorithm=self.alg,
                          headers={"kid": self.kid, "typ": "JWT", **(header or {})})


@dataclass
class Hooks:
    world: World
    client: TestClient
    es: Signer
    rs: Signer
    keyserver: FhirServer
    patients: dict[str, int]  # demo patient (case id) -> sijcare patient id

    def url(self, path: str) -> str:
        return PUBLIC_URL + path

    def headers(self, path: str, signer: Signer | None = None, **claims: Any) -> dict:
        signer = signer or self.es
        iss = EHR if signer is self.es else ROTATING
        return {"Authorization": f"Bearer {signer.token(self.url(path), iss=iss, **claims)}"}

    def post(self, path: str, body: Any, **claims: Any):
        return self.client.post(path, json=body, headers=self.headers(path, **claims))

    def resources(self, patient_id: int) -> list[dict[str, Any]]:
        with self.world.sessions() as db:
            return patient_resources(db, patient_id)

    def request(self, hook: str, patient_id: int, **extra: Any) -> dict[str, Any]:
        """A hook request with every template prefetched from the patient's export."""
        resources = self.resources(patient_id)
        return {"hook": hook, "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/dr-west", "patientId": str(patient_id),
                            **extra},
                "prefetch": prefetched(resources)}


def prefetched(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The EHR's prefetch of these resources: the Patient, and a searchset per template."""
    found: dict[str, Any] = {}
    for key, template in TEMPLATES.items():
        kind = template.split("?")[0].split("/")[0]
        matches = [r for r in resources if r["resourceType"] == kind]
        if key == "patient":
            found[key] = matches[0] if matches else None
        else:
            found[key] = {"resourceType": "Bundle", "type": "searchset",
                          "entry": [{"resource": r} for r in matches]}
    return found


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooks]:
    directory = tmp_path_factory.mktemp("cds")
    es = Signer(ec.generate_private_key(ec.SECP384R1()), "ES384", "ehr-es-1")
    rs = Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS384",
                "ehr-rs-1")
    keyserver = FhirServer()
    keyserver.routes["/jwks.json"] = {"keys": [rs.jwk]}
    issuers = directory / "issuers.json"
    issuers.write_text(json.dumps({
        EHR: {"jwks": {"keys": [es.jwk]}},
        ROTATING: {"jwks_url": keyserver.url + "/jwks.json"},
        "https://sandbox.cds-hooks.org": {"jwks": fixture("sandbox_jwks_public.json")},
        "https://inferno.healthit.gov": {"jwks": fixture("inferno_crd_jwks_public.json")},
    }))
    world = build_world(directory)
    with Session(world.engine) as db:
        demo = load_demo(db, today=DEMO_DAY)
        db.commit()
        patients = {p.external_id or f"patient-{p.id}": p.id for p in demo}
        db.add(Membership(user_id=world.ids["clinician"], clinic_id=demo[0].clinic_id))
        db.commit()
    settings = Settings(database_url=str(world.engine.url), secret_key=b"test secret",
                        public_url=PUBLIC_URL, cds_issuers=issuers)
    world.app = create_app(settings, world.engine)
    with TestClient(world.app) as client:
        yield Hooks(world, client, es, rs, keyserver, patients)
    keyserver.close()
    world.engine.dispose()
