"""Flask plumbing shared by every service: settings, logs, health, metrics, errors, auth, HTTP, OpenAPI."""

from .app import create_app
from .auth import (
    SERVICE_SCOPE,
    USER_SCOPE,
    issue_token,
    public,
    require_role,
    require_scope,
    service_token,
    verify_token,
)
from .domain_errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    TooLarge,
    TooManyAttempts,
    Unauthenticated,
    Unavailable,
)
from .errors import ApiProblem, ProblemModel, problem_response
from .http import HttpClient
from .lifecycle import Background, Lifecycle, Loop, OnClose, close_app, install_lifecycle
from .metrics import counter, gauge, histogram
from .settings import ServiceSettings, load_settings
from .unit_of_work import SqlUnitOfWork, UnitOfWork
from .validation import endpoint, parse_body, parse_query
from .wiring import current_dependencies, dependencies_of, install_dependencies

__all__ = [
    "SERVICE_SCOPE",
    "USER_SCOPE",
    "ApiProblem",
    "Background",
    "Conflict",
    "DomainError",
    "Forbidden",
    "HttpClient",
    "Invalid",
    "Lifecycle",
    "Malformed",
    "NotFound",
    "ProblemModel",
    "ServiceSettings",
    "SqlUnitOfWork",
    "TooLarge",
    "TooManyAttempts",
    "Unauthenticated",
    "Unavailable",
    "UnitOfWork",
    "close_app",
    "counter",
    "create_app",
    "current_dependencies",
    "dependencies_of",
    "endpoint",
    "gauge",
    "histogram",
    "install_dependencies",
    "install_lifecycle",
    "Loop",
    "OnClose",
    "issue_token",
    "load_settings",
    "parse_body",
    "parse_query",
    "problem_response",
    "public",
    "require_role",
    "require_scope",
    "service_token",
    "verify_token",
]
