"""Google's OAuth token endpoint (service-account JWT bearer grant), Drive v3 (files.list, files.generateIds,
files.create, with a given id or not) and Docs v1 (documents.get, documents.batchUpdate with insertText at the
end and updateParagraphStyle). Drive's search (files.list) lags creation by ``faults.index_lag`` seconds.

The token endpoint checks the assertion's signature against the service account's public key, its audience and
its scopes, as Google does, and the APIs accept only the access tokens it handed out.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from testkit.faults import Faults
from werkzeug import Request, Response

from . import injected, json_response

GOOGLE_DOC = "application/vnd.google-apps.document"
TOKEN_PATH = "/token"
# The audience Google requires in a service account's assertion, whichever URL it is posted to.
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
FILES_PATH = "/drive/v3/files"
GENERATE_IDS_PATH = "/drive/v3/files/generateIds"
DOCUMENT = re.compile(r"^/v1/documents/([\w-]+)$")
BATCH_UPDATE = re.compile(r"^/v1/documents/([\w-]+):batchUpdate$")
_NAME = re.compile(r"name = '((?:[^'\\]|\\.)*)'")
_PARENT = re.compile(r"'((?:[^'\\]|\\.)*)' in parents")


def service_account_key(token_uri: str, email: str = "bakery@bakery-project.iam.gserviceaccount.com") -> dict:
    """A service-account key file as Google issues it, with a fresh RSA key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "bakery-project",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "universe_domain": "googleapis.com",
    }


class FakeGoogle:
    def __init__(self, server: HTTPServer, *, folder_id: str = "folder-orders") -> None:
        self.server = server
        self.folder_id = folder_id
        self.key = service_account_key(server.url_for(TOKEN_PATH))
        private = serialization.load_pem_private_key(self.key["private_key"].encode(), password=None)
        self._public = private.public_key()
        self.files: dict[str, dict] = {}  # id -> {"name", "mimeType", "parents", "created"}
        self.documents: dict[str, str] = {}  # id -> body text (always ending with a newline)
        self.styles: dict[str, list[dict]] = {}
        self.granted_scopes: list[str] = []
        self.generated: set[str] = set()
        self.faults = Faults()
        self._tokens: set[str] = set()
        self._ids = itertools.count(1)
        server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(self._token)
        server.expect_request(GENERATE_IDS_PATH, method="GET").respond_with_handler(self._generate_ids)
        server.expect_request(FILES_PATH, method="GET").respond_with_handler(self._list)
        server.expect_request(FILES_PATH, method="POST").respond_with_handler(self._create)
        server.expect_request(DOCUMENT, method="GET").respond_with_handler(self._get_document)
        server.expect_request(BATCH_UPDATE, method="POST").respond_with_handler(self._batch_update)

    @property
    def url(self) -> str:
        return self.server.url_for("/")

    @property
    def key_json(self) -> str:
        return json.dumps(self.key)

    def add_folder_file(self, name: str, text: str = "\n") -> str:
        file_id = f"doc-{next(self._ids)}"
        self.files[file_id] = {"name": name, "mimeType": GOOGLE_DOC, "parents": [self.folder_id], "created": 0.0}
        self.documents[file_id] = text
        return file_id

    def named(self, name: str) -> list[str]:
        """The ids of every file called ``name`` (the truth, not the lagging search)."""
        return [file_id for file_id, meta in self.files.items() if meta["name"] == name]

    @staticmethod
    def _error(status: int, message: str, reason: str) -> Response:
        return json_response(
            {"error": {"code": status, "message": message, "errors": [{"message": message, "reason": reason}]}}, status
        )

    def _token(self, request: Request) -> Response:
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return json_response({"error": "unsupported_grant_type"}, 400)
        try:
            claims = jwt.decode(
                request.form.get("assertion", ""), self._public, algorithms=["RS256"], audience=TOKEN_AUDIENCE
            )
        except jwt.InvalidTokenError:
            return json_response({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400)
        if claims.get("iss") != self.key["client_email"]:
            return json_response({"error": "invalid_grant", "error_description": "Invalid issuer."}, 400)
        self.granted_scopes = claims.get("scope", "").split()
        token = f"ya29.fake-{next(self._ids)}"
        self._tokens.add(token)
        return json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _denied(self, request: Request, payload=None) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header.removeprefix("Bearer ") not in self._tokens:
            return self._error(401, "Request had invalid authentication credentials.", "authError")
        early = injected(
            self.faults,
            payload,
            refused=self._error(400, "Invalid requests[0].insertText: refused.", "badRequest"),
            throttled_body={
                "error": {"code": 429, "message": "Rate Limit Exceeded", "errors": [{"reason": "rateLimitExceeded"}]}
            },
            failed_body={
                "error": {
                    "code": 503,
                    "message": "The service is currently unavailable.",
                    "errors": [{"reason": "backendError"}],
                }
            },
        )
        return early

    def _generate_ids(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        ids = [secrets.token_urlsafe(24).replace("_", "A") for _ in range(int(request.args.get("count", 10)))]
        self.generated.update(ids)
        return json_response({"kind": "drive#generatedIds", "space": request.args.get("space", "drive"), "ids": ids})

    def _list(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        query = request.args.get("q", "")
        name, parent = _NAME.search(query), _PARENT.search(query)
        if name is None or parent is None or "trashed = false" not in query:
            return self._error(400, "Invalid Value", "invalid")
        matches = [
            {"id": file_id, "name": meta["name"]}
            for file_id, meta in self.files.items()
            if meta["name"] == name.group(1)
            and parent.group(1) in meta["parents"]
            and self.faults.visible(meta["created"])
            and (f"mimeType = '{GOOGLE_DOC}'" not in query or meta["mimeType"] == GOOGLE_DOC)
        ]
        return json_response({"kind": "drive#fileList", "files": matches[: int(request.args.get("pageSize", 100))]})

    def _create(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        body = request.get_json()
        parents = body.get("parents") or []
        if parents != [self.folder_id]:
            return self._error(404, f"File not found: {parents[0] if parents else ''}.", "notFound")
        file_id = body.get("id") or f"doc-{next(self._ids)}"
        if "id" in body:
            # Only an id Drive generated may be given, and a file has it once.
            if file_id in self.files:
                return self._error(409, "A file already exists with the provided ID.", "fileIdInUse")
            if file_id not in self.generated:
                return self._error(400, "The provided file ID is not usable.", "fileIdNotUsable")
        self.files[file_id] = {
            "name": body["name"],
            "mimeType": body.get("mimeType"),
            "parents": parents,
            "created": time.time(),
        }
        if body.get("mimeType") == GOOGLE_DOC:
            self.documents[file_id] = "\n"
        self.faults.after_acting()
        return json_response({"id": file_id})

    def _get_document(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        document_id = DOCUMENT.match(request.path).group(1)
        if document_id not in self.documents:
            return self._error(404, "Requested entity was not found.", "notFound")
        content = [{"endIndex": 1, "sectionBreak": {"sectionStyle": {}}}]
        index = 1
        for paragraph in self.documents[document_id].splitlines(keepends=True):
            end = index + len(paragraph.encode("utf-16-le")) // 2
            run = {"startIndex": index, "endIndex": end, "textRun": {"content": paragraph, "textStyle": {}}}
            content.append({"startIndex": index, "endIndex": end, "paragraph": {"elements": [run]}})
            index = end
        title = self.files[document_id]["name"]
        return json_response({"documentId": document_id, "title": title, "body": {"content": content}})

    def _batch_update(self, request: Request) -> Response:
        if denied := self._denied(request, request.get_json()):
            return denied
        document_id = BATCH_UPDATE.match(request.path).group(1)
        if document_id not in self.documents:
            return self._error(404, "Requested entity was not found.", "notFound")
        text = self.documents[document_id]
        for change in request.get_json()["requests"]:
            if "insertText" in change:
                if change["insertText"].get("endOfSegmentLocation") != {}:
                    return self._error(400, "Only endOfSegmentLocation is faked", "badRequest")
                text = text[:-1] + change["insertText"]["text"] + "\n"
            elif "updateParagraphStyle" in change:
                self.styles.setdefault(document_id, []).append(change["updateParagraphStyle"])
            else:
                return self._error(400, f"Unknown request {sorted(change)}", "badRequest")
        self.documents[document_id] = text
        self.faults.after_acting()
        replies = [{} for _ in request.get_json()["requests"]]
        return json_response(
            {"documentId": document_id, "replies": replies, "writeControl": {"requiredRevisionId": str(time.time())}}
        )
