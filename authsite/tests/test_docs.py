"""The README and docs/ hold together: every relative link reaches a file, every anchor a
heading of it, every page is linked from the README, and the README's two commands are
the ones CI runs (the test command as written, and every test besides).
"""

import re
import unicodedata

import pytest

from authsite import testing

README = testing.ROOT / "README.md"
DOCS = testing.ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
# [text](target): targets without a scheme are files of this repository.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def prose(path) -> str:
    """The page without its fenced code blocks, where brackets are code, not links."""
    return FENCE.sub("", path.read_text())


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower-cased, punctuation but '-' and '_' dropped,
    spaces to '-'."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path) -> set[str]:
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(path), re.M):
        base = slug(heading)
        anchor, n = base, 1
        while anchor in found:  # GitHub numbers repeated headings
            anchor, n = f"{base}-{n}", n + 1
        found.add(anchor)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert not broken, f"{page.name}: links that lead nowhere: {broken}"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {target.split("#")[0] for target in LINK.findall(prose(README))}
    unlinked = [p.name for p in DOCS.glob("*.md") if f"docs/{p.name}" not in linked]
    assert not unlinked, f"README.md does not link {unlinked}"


def test_the_readme_is_short():
    assert len(README.read_text().splitlines()) <= 200


def ci_commands() -> list[str]:
    """The commands of .ci/run, continued lines joined, without ``|| status=1``."""
    script = (testing.ROOT / ".ci" / "run").read_text().replace("\\\n", " ")
    return [" ".join(line.split("||")[0].split()) for line in script.splitlines()]


def test_the_readme_commands_are_the_ones_ci_runs():
    readme = README.read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^    (\./scripts/\w+)$", quick_start, re.M)
    assert commands == ["./scripts/serve", "./scripts/test"]
    assert "./scripts/test" in ci_commands(), ".ci/run must run ./scripts/test as written"


def test_ci_runs_every_test_on_both_databases():
    """The everyday run leaves the slow tests out; CI runs them too, on SQLite and on
    PostgreSQL."""
    commands = ci_commands()
    assert any(c.startswith("./scripts/test -m slow ") for c in commands), commands
    postgres = [c for c in commands if c.startswith("DATABASE_URL=") and "./scripts/test" in c]
    assert postgres and all("./scripts/test --all " in c for c in postgres), postgres
    assert all("REQUIRE_POSTGRES=1" in c for c in postgres), postgres
