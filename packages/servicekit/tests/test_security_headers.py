"""Security headers: nosniff on every answer; a strict CSP, no framing and no referrer on every HTML page."""

from __future__ import annotations

import re

from flask import Response
from servicekit import public
from servicekit.security_headers import HTML_POLICY, inline_hash


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_json_and_problem_answers_carry_nosniff_and_no_page_policy(client, auth) -> None:
    for response in (client.get("/items", headers=auth), client.get("/items"), client.get("/healthz")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in response.headers


def test_an_html_page_gets_a_strict_policy(app) -> None:
    @app.get("/page")
    @public
    def page():
        return Response("<!doctype html><p>hi</p>", mimetype="text/html")

    response = app.test_client().get("/page")
    assert response.headers["Content-Security-Policy"] == HTML_POLICY
    policy = _directives(HTML_POLICY)
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_view_keeps_its_own_policy(app) -> None:
    @app.get("/own")
    @public
    def own():
        return Response("<p>x</p>", mimetype="text/html", headers={"Content-Security-Policy": "default-src 'none'"})

    response = app.test_client().get("/own")
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_docs_page_allows_exactly_its_one_inline_style(client) -> None:
    response = client.get("/docs")
    page = response.get_data(as_text=True)
    [style] = re.findall(r"<style>(.*?)</style>", page)
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["style-src"] == [inline_hash(style)]
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "<script" not in page
