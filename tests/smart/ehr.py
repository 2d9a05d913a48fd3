"""A test EHR: Authlib's OAuth 2 / OpenID Connect authorization server (authorization code
with PKCE required, client_secret_basic, OpenID Connect id tokens with `fhirUser`, refresh
tokens, rotated on each use) in a small Flask app, configured with SMART scopes, the
`launch` and `aud` parameters and the patient and encounter context in the token response,
plus a FHIR base whose Patient read and patient searches (paged) Authlib's
ResourceProtector guards with the access tokens it issued, each search by its own scope.

Only the EHR's side of the world is played here (who is signed in to the EHR, which patient
a launch is about); the OAuth machinery is the library's.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from sijcare.web.ehr.fhir import KINDS

SCOPES = " ".join(["launch", "launch/patient", "openid", "fhirUser", "online_access",
                   *(f"patient/{kind}.rs" for kind in KINDS)])
PAGE = 20  # entries per searchset page (the Synthea patient has 48 Observations)


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uri: str
    refreshable: bool = True  # issued refresh tokens (and may use them)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES.split())

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code" or (self.refreshable and
                                                      grant_type == "refresh_token")


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    context: dict[str, str]
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None = None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass
class Token(TokenMixin):
    access_token: str
    scope: str
    expires_at: float
    client_id: str = ""
    user: str = ""
    refresh_token: str | None = None
    revoked: bool = False  # the refresh token, once used

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() > self.expires_at

    def is_revoked(self) -> bool:
        return False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id


class Ehr:
    """The EHR: its signed-in user, its launches and patients, and its servers."""

    def __init__(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client = Client(client_id, client_secret, redirect_uri)
        self.key = RSAKey.generate_key(2048, parameters={"kid": "ehr-id-1", "use": "sig"})
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.launches: dict[str, dict[str, str]] = {}  # launch id -> patient, encounter
        self.patients: dict[str, dict[str, Any]] = {}  # the FHIR server's Patients
        self.signed_in_user = "Practitioner/dr-west"
        self.standalone_patient: str | None = None  # the EHR's patient picker's choice
        self.records: dict[str, list[dict[str, Any]]] = {}  # patient id -> their resources
        self.fhir_reads: list[tuple[str, str | None]] = []
        self.token_requests: list[dict[str, str]] = []
        self.refresh_tokens: dict[str, Token] = {}
        self.app = self._app()
        self._http = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._http.server_port}"
        self.fhir_base = self.url + "/fhir"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._http.shutdown()

    def _server(self, app: Flask) -> AuthorizationServer:
        ehr = self

        def save_token(token: dict[str, Any], oauth_request: Any) -> None:
            kept = Token(token["access_token"], token["scope"], time.time() + token["expires_in"],
                         oauth_request.client.client_id, oauth_request.user,
                         token.get("refresh_token"))
            ehr.tokens[kept.access_token] = kept
            if kept.refresh_token:
                ehr.refresh_tokens[kept.refresh_token] = kept

        server = AuthorizationServer(app, query_client=lambda cid: (
            ehr.client if cid == ehr.client.client_id else None), save_token=save_token)

        class SmartCode(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic"]

            def validate_authorization_request(self):
                data = self.request.payload.data
                if data.get("aud") != ehr.fhir_base:
                    raise InvalidRequestError("aud is not this EHR's FHIR base")
                launch = data.get("launch")
                if launch is not None and launch not in ehr.launches:
                    raise InvalidRequestError("unknown launch")
                return super().validate_authorization_request()

            def save_authorization_code(self, code: str, oauth_request: Any) -> None:
                data = oauth_request.payload.data
                launch = data.get("launch")
                context = (ehr.launches[launch] if launch else
                           {"patient": ehr.standalone_patient or ""})
                ehr.codes[code] = Code(code, oauth_request.client.client_id,
                                       oauth_request.payload.redirect_uri, oauth_request.scope,
                                       oauth_request.user, context,
                                       data.get("code_challenge"),
                                       data.get("code_challenge_method"), data.get("nonce"))

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                found = ehr.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, code: Code) -> None:
                ehr.codes.pop(code.code, None)

            def authenticate_user(self, code: Code) -> str:
                return code.user

        class SmartOpenId(OpenIDCode):
            def exists_nonce(self, nonce: str, oauth_request: Any) -> bool:
                return any(c.nonce == nonce for c in ehr.codes.values())

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return ehr.key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": ehr.url, "aud": [client.client_id]}

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": "ehr-id-1"}

            def generate_user_info(self, user: str, scope: str) -> UserInfo:
                return UserInfo(sub=user, fhirUser=f"{ehr.fhir_base}/{user}")

        def launch_context(grant: Any, response: Any) -> None:
            """SMART: the token response carries the launch's patient and encounter."""
            _, token, _ = response
            code = grant.request.authorization_code
            token.update({k: v for k, v in code.context.items() if v})

        class WithContext:
            def __call__(self, grant: Any) -> None:
                grant.register_hook("after_create_token_response", launch_context)

        class Refresh(RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic"]
            INCLUDE_NEW_REFRESH_TOKEN = True

            def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
                found = ehr.refresh_tokens.get(refresh_token)
                return found if found and not found.revoked else None

            def authenticate_user(self, credential: Token) -> str:
                return credential.user

            def revoke_old_credential(self, credential: Token) -> None:
                credential.revoked = True

        server.register_grant(SmartCode, [CodeChallenge(required=True), SmartOpenId(),
                                          WithContext()])
        server.register_grant(Refresh)
        return server

    def _app(self) -> Flask:
        app = Flask("test-ehr")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 300,
                                                 "refresh_token": 300}
        app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
        server = self._server(app)
        ehr = self

        class Validator(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> Token | None:
                return ehr.tokens.get(token_string)

        protect = ResourceProtector()
        protect.register_token_validator(Validator())

        @app.get("/fhir/.well-known/smart-configuration")
        def smart_configuration():
            return jsonify({
                "issuer": ehr.url, "jwks_uri": ehr.url + "/jwks",
                "authorization_endpoint": ehr.url + "/authorize",
                "token_endpoint": ehr.url + "/token",
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "scopes_supported": SCOPES.split(), "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "capabilities": ["launch-ehr", "launch-standalone", "client-confidential-symmetric",
                                 "context-ehr-patient", "context-ehr-encounter",
                                 "context-standalone-patient", "sso-openid-connect",
                                 "permission-v2", "permission-online"]})

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [ehr.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            return server.create_authorization_response(grant_user=ehr.signed_in_user)

        @app.post("/token")
        def issue_token():
            ehr.token_requests.append(dict(request.form))
            return server.create_token_response()

        @app.get("/fhir/Patient/<patient_id>")
        @protect("patient/Patient.rs")
        def read_patient(patient_id: str):
            ehr.fhir_reads.append((patient_id, request.headers.get("Authorization")))
            found = ehr.patients.get(patient_id)
            return (jsonify(found), 200) if found else (jsonify({
                "resourceType": "OperationOutcome", "issue": [{"severity": "error",
                                                              "code": "not-found"}]}), 404)

        for kind in KINDS[1:]:
            app.add_url_rule(f"/fhir/{kind}", f"search_{kind}",
                             protect(f"patient/{kind}.rs")(self._search(kind)))
        return app

    def _search(self, kind: str):
        """`<kind>?patient=<id>`: the patient's resources of the kind, PAGE a page."""
        ehr = self

        def search():
            patient, page = request.args.get("patient", ""), int(request.args.get("_page", 1))
            ehr.fhir_reads.append((f"{kind}?patient={patient}&_page={page}",
                                   request.headers.get("Authorization")))
            found = [r for r in ehr.records.get(patient, []) if r["resourceType"] == kind]
            bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                                      "total": len(found), "entry": [
                                          {"resource": r}
                                          for r in found[(page - 1) * PAGE:page * PAGE]]}
            if page * PAGE < len(found):
                following = f"{ehr.fhir_base}/{kind}?patient={patient}&_page={page + 1}"
                bundle["link"] = [{"relation": "next", "url": following}]
            return jsonify(bundle)
        return search
