"""``/openapi.json`` built from the routes and the pydantic models of ``@endpoint``, and ``/docs``."""

from __future__ import annotations

import copy
import html
import re
from typing import Any

from flask import Flask, Response, current_app, jsonify
from pydantic import BaseModel, TypeAdapter

from .auth import ALWAYS_PUBLIC
from .errors import PROBLEM_MEDIA_TYPE, ProblemModel
from .security_headers import HTML_POLICY, inline_hash
from .validation import endpoint, spec_of

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_PARAM_TYPES = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
    "path": {"type": "string"},
}


def _param_schema(app: Flask, converter: str | None) -> dict[str, Any]:
    if converter in _PARAM_TYPES:
        return _PARAM_TYPES[converter]
    # A converter of the suite's own (servicekit.converters) says what it accepts.
    return getattr(app.url_map.converters.get(converter or "default"), "openapi_schema", {"type": "string"})


# Refusals servicekit itself sends, declared on the operations they can happen on.
_MALFORMED = (400, "Malformed JSON, a key repeated in an object, or JSON nested deeper than the service's limit")
_UNAUTHORIZED = (401, "Missing, invalid or revoked token")
_FORBIDDEN = (403, "The token lacks the scope or role this endpoint needs")
_NOT_FOUND = (404, "Not found")
# gunicorn's own refusal of a request line over 4,094 bytes (servicekit.gunicorn_conf sends it as problem+json).
_URI_TOO_LONG = (414, "The request line (path and query) is longer than the server accepts")
_TOO_LARGE = (413, "Body larger than the service's limit, however framed (chunked, or compressed: counted unpacked)")
_NOT_JSON = (415, "Body is not UTF-8 JSON, or in a Content-Encoding other than gzip or deflate")
_INVALID = (422, "Validation failed, or a NUL character in a string")
_UNAVAILABLE = (503, "A dependency of the service is unavailable; retry after Retry-After seconds")
# servicekit's own endpoints touch no dependency of the service (/readyz declares its own 503).
_PLUMBING = {"servicekit.healthz", "servicekit.readyz", "servicekit.metrics", "servicekit.openapi", "servicekit.docs"}
# Every string of a request is refused when it holds a NUL (validation.reject_nul); the schema says so.
_NO_NUL = r"[^\x00]"


_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "propertyNames")


# Any JSON value whose strings (keys included) hold no NUL: what a free-form part of a request may carry.
_FREE_FORM = "JsonWithoutNul"
_FREE_FORM_REF = {"$ref": f"#/components/schemas/{_FREE_FORM}"}
_FREE_FORM_SCHEMA = {
    "description": "Any JSON value; no string in it, key or value, may hold a NUL character.",
    "anyOf": [
        {"type": ["number", "boolean", "null"]},
        {"type": "string", "pattern": f"^{_NO_NUL}*$"},
        {"type": "array", "items": _FREE_FORM_REF},
        {"type": "object", "additionalProperties": _FREE_FORM_REF, "propertyNames": {"pattern": f"^{_NO_NUL}*$"}},
    ],
}
_ANNOTATIONS = {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"}


def _forbid_nul(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen and name in components:
            seen.add(name)
            _forbid_nul(components[name], components, seen)
    if set(schema) <= _ANNOTATIONS:
        # A value of any shape (pydantic's Any): nothing in it may hold a NUL either.
        components.setdefault(_FREE_FORM, copy.deepcopy(_FREE_FORM_SCHEMA))
        schema.update(_FREE_FORM_REF)
        return
    if schema.get("type") == "string" and not ({"pattern", "enum", "const", "format"} & set(schema)):
        low, high = schema.get("minLength"), schema.get("maxLength")
        repeat = "*" if low is None and high is None else f"{{{low or 0},{'' if high is None else high}}}"
        schema["pattern"] = f"^{_NO_NUL}{repeat}$"
    if schema.get("type") == "object" and schema.get("additionalProperties", True) is True:
        # Extra fields a model ignores are still read for NULs.
        components.setdefault(_FREE_FORM, copy.deepcopy(_FREE_FORM_SCHEMA))
        schema["additionalProperties"] = dict(_FREE_FORM_REF)
    if schema.get("type") == "object":
        schema.setdefault("propertyNames", {"pattern": f"^{_NO_NUL}*$"})
    children = [schema.get(key) for key in _SUBSCHEMAS]
    children += [item for key in _SUBSCHEMA_LISTS for item in schema.get(key) or []]
    children += [item for key in _SUBSCHEMA_MAPS for item in (schema.get(key) or {}).values()]
    for child in children:
        _forbid_nul(child, components, seen)


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def schema_of(self, model: Any) -> dict[str, Any]:
        """The JSON schema of a model, its nested definitions moved to ``components/schemas``."""
        if isinstance(model, type) and issubclass(model, BaseModel):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        else:
            schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(def_name, definition)
        return schema

    def ref(self, model: Any) -> dict[str, Any]:
        if model is None:
            return {}
        schema = self.schema_of(model)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return schema
        self.schemas.setdefault(model.__name__, schema)
        return {"$ref": f"#/components/schemas/{model.__name__}"}


_RETRY_AFTER = {"required": True, "schema": {"type": "integer", "minimum": 0}}


def _response(
    status: int, declared: Any, media_type: str, components: _Components, problem: dict[str, Any]
) -> dict[str, Any]:
    """One entry of ``responses``: ``declared`` is a model, a description, ``None`` or ``(media type, model)``.

    Every error servicekit sends is problem+json, so an error status names the problem schema whatever
    model was given, unless the entry spells out its own media type.
    """
    description = "OK" if status < 300 else ("Redirect" if status < 400 else "Error")
    if isinstance(declared, str):
        description, declared = declared, None
    if isinstance(declared, tuple):
        media_type, declared = declared
    elif status >= 400:
        is_problem = isinstance(declared, type) and issubclass(declared, ProblemModel)
        media_type, declared = PROBLEM_MEDIA_TYPE, declared if is_problem else ProblemModel
    entry: dict[str, Any] = {"description": description}
    if declared is not None:
        schema = problem if declared is ProblemModel else components.ref(declared)
        entry["content"] = {media_type: {"schema": schema}}
    elif media_type != "application/json":
        entry["content"] = {media_type: {"schema": {"type": "string"}}}
    if status == 503:
        # A dependency outage always says when to come back (errors.py), declared or not.
        entry["headers"] = {"Retry-After": _RETRY_AFTER}
    return entry


def build_openapi(app: Flask, title: str, version: str = "1.0.0") -> dict[str, Any]:
    components = _Components()
    problem_ref = components.ref(ProblemModel)
    problem_content = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
    request_schemas: list[Any] = []
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        spec = spec_of(view)
        path = _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        params = [
            {
                "name": m.group("name"),
                "in": "path",
                "required": True,
                "schema": _param_schema(app, m.group("conv")),
            }
            for m in _CONVERTER.finditer(rule.rule)
        ]
        public = spec.public or rule.endpoint in ALWAYS_PUBLIC
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": spec.summary or rule.endpoint,
                "responses": {},
            }
            if spec.tags:
                op["tags"] = spec.tags
            op_params = list(params)
            if spec.query is not None:
                query_schema = components.schema_of(spec.query)
                required = set(query_schema.get("required", []))
                for name, prop in query_schema.get("properties", {}).items():
                    op_params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
                    request_schemas.append(prop)
            if op_params:
                op["parameters"] = op_params
            if spec.body is not None:
                body_schema = components.ref(spec.body)
                request_schemas.append(body_schema)
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body_schema}}}
                if spec.max_body_bytes is not None:
                    # The route's own limit, above MAX_CONTENT_LENGTH; a larger body is 413.
                    op["requestBody"]["x-max-body-bytes"] = spec.body_limit()
            for status, declared in (spec.responses or {200: None}).items():
                op["responses"][str(status)] = _response(status, declared, spec.media_type, components, problem_ref)
            errors = [_NOT_FOUND]
            if spec.query is not None or "{" in path:
                errors.append(_URI_TOO_LONG)
            if not public:
                errors.append(_UNAUTHORIZED)
            if not public and (spec.scope is not None or spec.roles is not None):
                errors.append(_FORBIDDEN)
            if spec.body is not None:
                errors += [_MALFORMED, _TOO_LARGE, _NOT_JSON]
            if spec.body is not None or spec.query is not None:
                errors.append(_INVALID)
            if rule.endpoint not in _PLUMBING:
                errors.append(_UNAVAILABLE)
            for status, description in sorted(errors):
                entry: dict[str, Any] = {"description": description, "content": problem_content}
                if status == 503:
                    entry["headers"] = {"Retry-After": _RETRY_AFTER}
                op["responses"].setdefault(str(status), entry)
            if not public:
                op["security"] = [{"bearerAuth": []}]
            paths.setdefault(path, {})[method.lower()] = op
    seen: set[str] = set()
    for schema in request_schemas:
        _forbid_nul(schema, components.schemas, seen)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


_DOCS_STYLE = "body{font-family:sans-serif;margin:2em}td{padding:.2em 1em}"
# The page's one inline style, allowed by its hash; nothing else runs or loads.
_DOCS_POLICY = HTML_POLICY.replace("style-src 'self'", f"style-src {inline_hash(_DOCS_STYLE)}")


def register_openapi(app: Flask, title: str) -> None:
    def cached_document() -> dict[str, Any]:
        # Routes are all registered before the first request, so the document is built once per app.
        if "servicekit.openapi" not in current_app.extensions:
            current_app.extensions["servicekit.openapi"] = build_openapi(current_app, title)
        document: dict[str, Any] = current_app.extensions["servicekit.openapi"]
        return document

    @endpoint(summary="This document (OpenAPI 3.1)", response=dict[str, Any])
    def openapi() -> Response:
        return jsonify(cached_document())

    @endpoint(summary="The operations of this service, as a page", media_type="text/html")
    def docs() -> tuple[str, int, dict[str, str]]:
        document = cached_document()
        rows = "".join(
            f"<tr><td><code>{html.escape(method.upper())}</code></td><td><code>{html.escape(path)}</code></td>"
            f"<td>{html.escape(op.get('summary') or '')}</td>"
            f"<td>{'token' if op.get('security') else 'public'}</td></tr>"
            for path, ops in document["paths"].items()
            for method, op in ops.items()
        )
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)} API</title>"
            f"<style>{_DOCS_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>Machine-readable: <a href='openapi.json'>openapi.json</a>"
            "</p><table><tr><th>method</th><th>path</th><th>what</th><th>auth</th></tr>"
            f"{rows}</table></body></html>"
        )
        return page, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": _DOCS_POLICY}

    app.add_url_rule("/openapi.json", "servicekit.openapi", openapi, methods=["GET"])
    app.add_url_rule("/docs", "servicekit.docs", docs, methods=["GET"])
