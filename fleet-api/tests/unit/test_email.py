"""A user's e-mail: what the OpenAPI pattern allows is accepted, a control character is refused."""

from __future__ import annotations

import re

import pytest
from fleet_api.domain.models import UserCreate
from pydantic import ValidationError


def declared_pattern() -> str:
    return UserCreate.model_json_schema(by_alias=True)["properties"]["email"]["pattern"]


@pytest.mark.parametrize("email", ["a\x01b@example.com", "a@exa\x7fmple.com", "a@example.com\x1c", "a\x85@b.co"])
def test_a_control_character_is_refused(email: str) -> None:
    with pytest.raises(ValidationError):
        UserCreate(name="Ann", email=email)
    assert not re.fullmatch(declared_pattern(), email)


@pytest.mark.parametrize("email", ["Ann@Example.com", "o'neil+fleet@mail.example.co.uk", "jürgen@bäckerei.de", "0@0.0"])
def test_what_the_declared_pattern_allows_is_accepted(email: str) -> None:
    assert re.fullmatch(declared_pattern(), email)
    assert UserCreate(name="Ann", email=email).email == email.lower()


@pytest.mark.parametrize("email", [" ann@example.com", "ann@example.com\ufeff", "ann@@example.com", "ann@example"])
def test_what_the_declared_pattern_refuses_is_refused(email: str) -> None:
    assert not re.fullmatch(declared_pattern(), email)
    with pytest.raises(ValidationError):
        UserCreate(name="Ann", email=email)
