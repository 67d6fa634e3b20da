""".env.example documents every setting of every service, so the docs keep up with the code."""

from __future__ import annotations

import static_rules as rules
from servicekit import ServiceSettings


def test_every_settings_field_of_every_service_is_in_env_example(env_example_names):
    missing = []
    classes = {"servicekit": ServiceSettings, **rules.service_settings(), **rules.package_settings()}
    for owner, settings_cls in classes.items():
        missing += [f"{owner}: {name}" for name in rules.setting_names(settings_cls) if name not in env_example_names]
    assert missing == [], "add these to .env.example with a default and a comment"


def test_every_service_has_its_settings_class():
    found = rules.service_settings()
    assert set(found) == set(rules.SERVICES)
    assert all(issubclass(cls, ServiceSettings) for cls in found.values())


def test_each_variable_has_a_comment(root):
    lines = (root / ".env.example").read_text(encoding="utf-8").splitlines()
    uncommented = []
    for i, line in enumerate(lines):
        if rules.env_example_names(line) and not line.startswith("#"):
            # A comment right above it, or the previous line is another setting of the same comment block.
            above = lines[i - 1] if i else ""
            if not above.startswith("#") and not rules.env_example_names(above):
                uncommented.append(line)
    assert uncommented == []


def test_no_secret_has_a_value_in_env_example(root):
    for line in (root / ".env.example").read_text(encoding="utf-8").splitlines():
        name, sep, value = line.lstrip("# ").partition("=")
        if sep and name.isupper() and rules.is_secret_name(name) and not name.endswith("_FILE"):
            assert value == "" or "PASSWORD@" in value, line


def test_secret_names_are_told_apart():
    assert all(
        map(
            rules.is_secret_name,
            [
                "JWT_SECRET",
                "JWT_SECRET_FILE",
                "GITHUB_TOKEN",
                "SMTP_PASSWORD",
                "GF_SECURITY_ADMIN_PASSWORD__FILE",
                "OPENAI_API_KEY",
            ],
        )
    )
    assert not any(map(rules.is_secret_name, ["OPENAI_MAX_OUTPUT_TOKENS", "PROMPT_TOKEN_BUDGET", "JWT_ISSUER"]))


def test_a_missing_field_is_caught():
    names = rules.env_example_names("JWT_ISSUER=fleet-api\n# JWT_SECRET=\n")
    assert names == {"JWT_ISSUER", "JWT_SECRET"}
    assert "DATABASE_URL" not in names
