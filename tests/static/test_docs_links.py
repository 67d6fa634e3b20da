"""The README is a short guide, and every relative link in it, in docs/ and in the services', packages' and
infra's READMEs leads somewhere: to a file or folder of the repository and, where it names one, to a heading
of that page."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["dispatch-service", "fleet-api", "gpt-service", "automation-service", "bakery-service", "audit-worker"]
README_MAX_LINES = 220

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")
# [text](target) and ![alt](target), with an optional "title"; the text may hold one level of brackets.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def pages() -> list[Path]:
    found = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found += [ROOT / service / "README.md" for service in SERVICES]
    found += sorted(ROOT.glob("packages/*/README.md")) + sorted(ROOT.glob("infra/**/README.md"))
    return [page for page in found if "node_modules" not in page.parts]


def prose_lines(path: Path) -> list[str]:
    """The page's lines outside fenced code blocks, inline code removed: links in code are not links."""
    lines, in_fence = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            lines.append(INLINE_CODE.sub("", line))
    return lines


def link_targets(path: Path) -> list[str]:
    targets = []
    for line in prose_lines(path):
        targets += INLINE_LINK.findall(line)
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            targets.append(definition.group(1))
    return targets


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text as rendered, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    kept = "".join(ch for ch in text.lower() if ch in " -_" or unicodedata.category(ch)[0] in ("L", "N", "M"))
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in link_targets(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif not destination.is_relative_to(root.resolve()):
            broken.append(f"{target}: outside the repository")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(root.resolve())}")
    return broken


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert page.exists(), f"{page.relative_to(ROOT)} is missing"
    assert broken_links(page) == []


def test_the_readme_is_a_short_guide():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; details belong in docs/"


def test_the_readme_links_every_guide_in_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for guide in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{guide.name})" in readme, f"README.md does not link docs/{guide.name}"


def test_no_page_cites_a_file_the_repository_does_not_have():
    """Targets are defined in docs/performance.md and docs/reliability.md, not in a file kept elsewhere."""
    for page in pages():
        assert "TARGETS.md" not in page.read_text(encoding="utf-8"), page.relative_to(ROOT)


def test_the_link_checker_sees_a_broken_link_and_a_missing_heading(tmp_path):
    (tmp_path / "there.md").write_text("# A heading: with `code` — and more\n\n## A heading: with code — and more\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md#a-heading-with-code--and-more) [dup](there.md#a-heading-with-code--and-more-1)\n"
        "[gone](missing.md) [bad anchor](there.md#nowhere) `[in code](nowhere.md)`\n"
        "```\n[in a fence](nowhere.md)\n```\n[web](https://example.com/x.md)\n"
    )
    assert broken_links(page, root=tmp_path) == [
        "missing.md: no such file",
        "there.md#nowhere: no heading #nowhere in there.md",
    ]
