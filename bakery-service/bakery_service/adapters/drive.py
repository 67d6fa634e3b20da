"""One Google Doc per customer in the Orders folder, through google-api-python-client with service-account
credentials (google-auth).

Drive finds the file by name in the folder and creates an empty Google Doc there; the Docs API appends the line
at the end of the document (batchUpdate insertText at endOfSegmentLocation), so a line is never lost to a
read-modify-write race, and nothing is uploaded. The discovery documents are the ones the client ships
(static_discovery), so building the services needs no network. The service account needs the Drive scope (to see
the folder shared with it) and the Docs scope.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.exceptions import GoogleAuthError, RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ..settings import Settings
from .integration_errors import IntegrationError, NotConfigured, retry_after_seconds, secret, setting

log = logging.getLogger(__name__)

INTEGRATION = "google-drive"
SCOPES = ("https://www.googleapis.com/auth/drive", "https://www.googleapis.com/auth/documents")
GOOGLE_DOC = "application/vnd.google-apps.document"
DEFAULT_API_URL = "https://www.googleapis.com/"
# Where each API lives below a replacement root (a proxy or a local fake); the same paths as Google's hosts.
SERVICE_PATHS = {"drive": "drive/v3/", "docs": ""}


def _q_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _utf16_length(text: str) -> int:
    # Docs API indexes count UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _document_text(document: dict[str, Any]) -> str:
    parts = []
    for element in (document.get("body") or {}).get("content") or []:
        for run in (element.get("paragraph") or {}).get("elements") or []:
            parts.append((run.get("textRun") or {}).get("content", ""))
    return "".join(parts)


def _failure(action: str, exc: Exception) -> IntegrationError:
    if isinstance(exc, HttpError):
        status = exc.status_code or getattr(exc.resp, "status", 0)
        retryable = status in (408, 429) or status >= 500
        message = f"Google {action} failed: HTTP {status} {exc.reason or ''}".strip()
        # Drive also says "rate limit exceeded" with a 403 (userRateLimitExceeded): wait, then try again.
        throttled = status == 429 or (status == 403 and "rate limit" in str(exc.reason or "").lower())
        return IntegrationError(
            message,
            retryable=retryable or throttled,
            throttled=throttled,
            retry_after=retry_after_seconds(exc.resp.get("retry-after") if exc.resp is not None else None),
        )
    if isinstance(exc, RefreshError):
        # The token endpoint refused the key (revoked, wrong account): only a new key helps; unless it said
        # it was a passing failure.
        retryable = bool(getattr(exc, "retryable", False))
        message = f"Google {action} failed: the token endpoint refused the credentials"
        return IntegrationError(message, retryable=retryable)
    return IntegrationError(f"Google {action} failed: {type(exc).__name__}", retryable=True)


class DriveDocs:
    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        self._settings = settings
        self._timeout = timeout if timeout is not None else settings.integration_timeout_seconds
        self._credentials: service_account.Credentials | None = None
        self._local = threading.local()

    @property
    def configured(self) -> bool:
        s = self._settings
        return bool(
            s.google_service_account_json
            and s.google_service_account_json.get_secret_value().strip()
            and s.google_drive_orders_folder_id
        )

    def _clients(self) -> tuple[Any, Any]:
        if not self.configured:
            raise NotConfigured(INTEGRATION)
        if self._credentials is None:
            try:
                info = json.loads(secret(self._settings.google_service_account_json, INTEGRATION))
                self._credentials = service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
            except (ValueError, KeyError, TypeError) as exc:
                # The message of a key parsing error may quote the key: say only what is wrong.
                raise IntegrationError(
                    f"Google service account JSON is not a valid key ({type(exc).__name__})", retryable=False
                ) from None
        services = getattr(self._local, "services", None)
        if services is None:
            # httplib2 connections are not thread-safe: one transport, hence one pair of services, per thread.
            http = google_auth_httplib2.AuthorizedHttp(self._credentials, http=httplib2.Http(timeout=self._timeout))
            services = self._local.services = (self._build("drive", "v3", http), self._build("docs", "v1", http))
        return services

    def _build(self, name: str, version: str, http: Any) -> Any:
        options = None
        root = self._settings.google_api_url
        if root.rstrip("/") != DEFAULT_API_URL.rstrip("/"):
            options = {"api_endpoint": urllib.parse.urljoin(root.rstrip("/") + "/", SERVICE_PATHS[name])}
        return build(name, version, http=http, static_discovery=True, cache_discovery=False, client_options=options)

    def _run(self, action: str, request: Any) -> Any:
        try:
            return request.execute(num_retries=0)
        except (HttpError, GoogleAuthError, httplib2.HttpLib2Error, OSError) as exc:
            raise _failure(action, exc) from exc

    def find_document(self, name: str) -> str | None:
        """The oldest Google Doc called ``name`` in the Orders folder (Drive's search: it may lag a creation)."""
        drive, _ = self._clients()
        folder = setting(self._settings.google_drive_orders_folder_id, INTEGRATION)
        query = (
            f"name = {_q_string(name)} and {_q_string(folder)} in parents "
            f"and mimeType = '{GOOGLE_DOC}' and trashed = false"
        )
        found = self._run(
            "find document",
            drive.files().list(
                q=query,
                fields="files(id,name)",
                pageSize=1,
                orderBy="createdTime",
                supportsAllDrives=True,
                includeItemsFromAllDrives=True,
            ),
        )
        files = found.get("files") or []
        return files[0]["id"] if files else None

    def generate_id(self) -> str:
        """An id for a file not created yet (Drive's ``files.generateIds``)."""
        drive, _ = self._clients()
        answer = self._run("generate an id", drive.files().generateIds(count=1, space="drive", type="files"))
        file_id: str = answer["ids"][0]
        return file_id

    def document_text(self, document_id: str) -> str | None:
        """The document's text, or None when no document has this id (not created yet, or deleted)."""
        _, docs = self._clients()
        try:
            document = docs.documents().get(documentId=document_id).execute(num_retries=0)
        except HttpError as exc:
            if (exc.status_code or getattr(exc.resp, "status", 0)) == 404:
                return None
            raise _failure("read document", exc) from exc
        except (GoogleAuthError, httplib2.HttpLib2Error, OSError) as exc:
            raise _failure("read document", exc) from exc
        return _document_text(document)

    def create_document(self, document_id: str, name: str) -> None:
        """Create the empty Google Doc ``name`` in the Orders folder with the id given; one that exists
        already (an earlier attempt created it) is not an error."""
        drive, _ = self._clients()
        folder = self._settings.google_drive_orders_folder_id
        body = {"id": document_id, "name": name, "mimeType": GOOGLE_DOC, "parents": [folder]}
        try:
            drive.files().create(body=body, fields="id", supportsAllDrives=True).execute(num_retries=0)
        except HttpError as exc:
            if (exc.status_code or getattr(exc.resp, "status", 0)) == 409:
                return
            raise _failure("create document", exc) from exc
        except (GoogleAuthError, httplib2.HttpLib2Error, OSError) as exc:
            raise _failure("create document", exc) from exc
        log.info("drive document created", extra={"drive_document": document_id, "customer": name})

    def append_line(self, document_id: str, title: str, line: str, text: str) -> bool:
        """Append ``line`` to the document whose current text is ``text`` (with ``title`` first when it is
        empty); False when the line is there already (a retried action changes nothing)."""
        _, docs = self._clients()
        if line.strip() in [existing.strip() for existing in text.splitlines()]:
            return False
        requests = []
        if not text.strip():
            # A new (or still empty) document: the title first, styled as the document's title.
            requests.append({"insertText": {"endOfSegmentLocation": {}, "text": f"{title}\n\n{line}"}})
            requests.append(
                {
                    "updateParagraphStyle": {
                        "range": {"startIndex": 1, "endIndex": 1 + _utf16_length(title)},
                        "paragraphStyle": {"namedStyleType": "TITLE"},
                        "fields": "namedStyleType",
                    }
                }
            )
        else:
            # The body always ends with a newline; inserting at the end of the segment lands just before it.
            requests.append({"insertText": {"endOfSegmentLocation": {}, "text": f"\n{line}"}})
        self._run(
            "append line",
            docs.documents().batchUpdate(documentId=document_id, body={"requests": requests}),
        )
        log.info("drive document updated", extra={"drive_document": document_id})
        return True
