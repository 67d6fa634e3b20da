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
from .errors import ApiProblem, ProblemModel, problem_response
from .http import HttpClient
from .metrics import counter, gauge, histogram
from .settings import ServiceSettings, load_settings
from .validation import endpoint, parse_body, parse_query
from .wiring import current_dependencies, dependencies_of, install_dependencies

__all__ = [
    "SERVICE_SCOPE",
    "USER_SCOPE",
    "ApiProblem",
    "HttpClient",
    "ProblemModel",
    "ServiceSettings",
    "counter",
    "create_app",
    "current_dependencies",
    "dependencies_of",
    "endpoint",
    "gauge",
    "histogram",
    "install_dependencies",
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
