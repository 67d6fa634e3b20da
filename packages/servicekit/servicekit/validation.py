"""Request parsing with pydantic, and the endpoint metadata the OpenAPI document is built from."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from .bodies import loads_strict
from .errors import ApiProblem


@dataclass
class EndpointSpec:
    summary: str | None = None
    body: Any = None
    query: type[BaseModel] | None = None
    responses: dict[int, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    public: bool = False
    scope: str | None = None
    # The roles a person's token must carry (servicekit.auth.require_role); None: any valid token.
    roles: frozenset[str] | None = None
    media_type: str = "application/json"
    # This route's own body limit in bytes (a number, or a function read at request time, e.g. a setting).
    max_body_bytes: int | Callable[[], int] | None = None

    def body_limit(self) -> int | None:
        limit = self.max_body_bytes
        return limit() if callable(limit) else limit


def spec_of(view: Callable[..., Any]) -> EndpointSpec:
    spec = getattr(view, "__endpoint_spec__", None)
    if spec is None:
        spec = EndpointSpec()
        view.__endpoint_spec__ = spec  # type: ignore[attr-defined]
    return spec


def validation_problem(exc: ValidationError, where: str) -> ApiProblem:
    errors = [
        {"loc": ".".join([where, *(str(p) for p in err["loc"])]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    fields = ", ".join(e["loc"] for e in errors)
    return ApiProblem(422, "Validation failed", f"Invalid or missing: {fields}", errors=errors)


def _nul_location(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Iterable[tuple[object, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return path
        found = _nul_location(item, f"{path}.{key}")
        if found:
            return found
    return None


def reject_nul(data: Any, where: str) -> None:
    """Postgres text cannot hold NUL, and no field of ours means one: refuse it at the door."""
    location = _nul_location(data, where)
    if location:
        raise ApiProblem(
            422,
            "Validation failed",
            f"Invalid: {location} contains a NUL character.",
            errors=[{"loc": location, "msg": "NUL characters are not allowed", "type": "nul_char"}],
        )


DEFAULT_MAX_JSON_DEPTH = 64
# A string token always matches, terminated or running to the end of the body, so no start is tried twice.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_OPENERS = frozenset(b"[{")


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether ``raw`` nests arrays and objects deeper than ``limit``, judged before any parsing.

    Strings are cut out and everything but brackets dropped at C speed; the depth walk then visits brackets
    only and stops at the first level past the limit. Linear in the body size, so a hostile body never
    reaches a recursive parser or validator and costs little to refuse.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = 0
    for char in brackets:
        if char in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def max_json_depth() -> int:
    settings = current_app.config.get("SETTINGS")
    return getattr(settings, "max_json_depth", DEFAULT_MAX_JSON_DEPTH)


def json_body() -> Any:
    """The request's JSON body: 415 when it is not UTF-8 JSON, 413 past the size limit, 400 when it does not
    parse, repeats a key or nests too deep."""
    mimetype = request.mimetype or ""
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        raise ApiProblem(415, "Unsupported Media Type", "Send the body as application/json.")
    raw = request.get_data(cache=True)
    limit = max_json_depth()
    if json_depth_exceeds(raw, limit):
        raise ApiProblem(
            400, "JSON nested too deeply", f"The request body nests arrays and objects deeper than {limit} levels."
        )
    data = loads_strict(raw, request.mimetype_params.get("charset"))
    reject_nul(data, "body")
    return data


def parse_body(model: Any) -> Any:
    """Validate the JSON body against a pydantic model (or any type a TypeAdapter takes)."""
    data = json_body()
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(data)
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        raise validation_problem(exc, "body") from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    # Most list calls send no query string at all; parsing an empty one still costs a MultiDict.
    args = request.args.to_dict() if request.environ.get("QUERY_STRING") else {}
    reject_nul(args, "query")
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise validation_problem(exc, "query") from None


def endpoint(
    *,
    summary: str | None = None,
    body: Any = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    responses: dict[int, Any] | None = None,
    tags: list[str] | None = None,
    media_type: str = "application/json",
    max_body_bytes: int | Callable[[], int] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe an endpoint; when ``body``/``query`` are given, the view receives them validated.

    The view is called with ``body=`` and/or ``query=`` keyword arguments. The same metadata feeds
    ``/openapi.json``, so the document cannot drift from what the code accepts. ``responses`` maps a
    status to a model, a description or ``(media type, model)``; an error status (400 and up) is documented
    as ``application/problem+json`` unless its media type is given. ``media_type`` is that of the success
    responses.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if spec.max_body_bytes is not None:
                # Before the body is read: servicekit.bodies refuses a larger one with 413 as it streams it in.
                request.max_content_length = spec.body_limit()
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body)
            return view(*args, **kwargs)

        spec = spec_of(wrapper)
        inner = getattr(view, "__endpoint_spec__", None)
        if inner:
            spec.public, spec.scope, spec.roles = inner.public, inner.scope, inner.roles
        spec.summary = summary or (view.__doc__ or "").strip().split("\n")[0] or None
        spec.body, spec.query, spec.tags, spec.media_type = body, query, tags or [], media_type
        spec.max_body_bytes = max_body_bytes
        spec.responses = dict(responses or {})
        spec.responses.setdefault(status, response)
        return wrapper

    return decorate
