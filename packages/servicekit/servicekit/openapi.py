"""``/openapi.json`` built from the routes and the pydantic models of ``@endpoint``, and ``/docs``."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask, current_app, jsonify
from pydantic import BaseModel, TypeAdapter

from .auth import ALWAYS_PUBLIC
from .errors import PROBLEM_MEDIA_TYPE, ProblemModel
from .validation import spec_of

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_PARAM_TYPES = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
    "path": {"type": "string"},
}
_ERROR_STATUSES = {
    400: "Malformed request",
    401: "Missing or invalid token",
    404: "Not found",
    415: "Body is not JSON",
    422: "Validation failed",
}


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: Any) -> dict[str, Any]:
        if model is None:
            return {}
        if isinstance(model, type) and issubclass(model, BaseModel):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            name = model.__name__
        else:
            schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
            name = None
        for def_name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(def_name, definition)
        if name is None:
            return schema
        self.schemas.setdefault(name, schema)
        return {"$ref": f"#/components/schemas/{name}"}


def build_openapi(app: Flask, title: str, version: str = "1.0.0") -> dict[str, Any]:
    components = _Components()
    problem_ref = components.ref(ProblemModel)
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
                "schema": _PARAM_TYPES.get(m.group("conv") or "", {"type": "string"}),
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
                query_schema = spec.query.model_json_schema()
                required = set(query_schema.get("required", []))
                for name, prop in query_schema.get("properties", {}).items():
                    op_params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
            if op_params:
                op["parameters"] = op_params
            if spec.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": components.ref(spec.body)}},
                }
            for status, model in (spec.responses or {200: None}).items():
                entry: dict[str, Any] = {"description": "OK" if status < 300 else "Error"}
                if model is not None:
                    # An error declared with ProblemModel is sent as problem+json, and documented so.
                    media = PROBLEM_MEDIA_TYPE if model is ProblemModel else "application/json"
                    entry["content"] = {media: {"schema": components.ref(model)}}
                op["responses"][str(status)] = entry
            errors = dict(_ERROR_STATUSES)
            if public:
                errors.pop(401)
            if spec.body is None:
                errors.pop(415)
                if spec.query is None:
                    errors.pop(422)
            for status, description in errors.items():
                op["responses"].setdefault(
                    str(status), {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}}
                )
            if not public:
                op["security"] = [{"bearerAuth": []}]
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def register_openapi(app: Flask, title: str) -> None:
    def cached_document() -> dict[str, Any]:
        # Routes are all registered before the first request, so the document is built once per app.
        if "servicekit.openapi" not in current_app.extensions:
            current_app.extensions["servicekit.openapi"] = build_openapi(current_app, title)
        return current_app.extensions["servicekit.openapi"]

    def openapi():
        return jsonify(cached_document())

    def docs():
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
            "<style>body{font-family:sans-serif;margin:2em}td{padding:.2em 1em}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>Machine-readable: <a href='openapi.json'>openapi.json</a>"
            "</p><table><tr><th>method</th><th>path</th><th>what</th><th>auth</th></tr>"
            f"{rows}</table></body></html>"
        )
        return page, 200, {"Content-Type": "text/html; charset=utf-8"}

    app.add_url_rule("/openapi.json", "servicekit.openapi", openapi, methods=["GET"])
    app.add_url_rule("/docs", "servicekit.docs", docs, methods=["GET"])
