"""docs/api.md, the client developer's reference, against the code it describes.

Every operation of the OpenAPI schema has a section ``### METHOD /path`` that lists each
status the schema documents for it (as a ``- `STATUS`` bullet) and each error code its
responses may carry; no section describes an operation the schema lacks; every error
code of tokens/errors.py is explained; every setting it names is one the project reads.
"""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from authsite import testing
from tokens import errors

API_MD = testing.ROOT / "docs" / "api.md"
README = testing.ROOT / "README.md"
SETTINGS_PY = testing.ROOT / "authsite" / "settings.py"
METHODS = {"get", "post", "put", "patch", "delete"}
HEADING = re.compile(r"^### (GET|POST|PUT|PATCH|DELETE) (/\S*)$", re.M)


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def sections() -> dict[tuple[str, str], str]:
    """(method, path) -> the text of its ``### METHOD /path`` section."""
    text = API_MD.read_text()
    found = {}
    for match in HEADING.finditer(text):
        end = re.compile(r"^##", re.M).search(text, match.end())
        found[(match.group(1).lower(), match.group(2))] = text[
            match.end() : end.start() if end else len(text)
        ]
    return found


def operations(schema: dict):
    for path, items in schema["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield method, path, operation


def detail_codes(response: dict) -> set[str]:
    """The ``detail`` codes a documented response body may carry."""
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    codes = set()
    for option in body.get("oneOf") or body.get("anyOf") or [body]:
        codes.update(option.get("properties", {}).get("detail", {}).get("enum", []))
    return codes


def test_every_operation_of_the_schema_has_a_section(schema, sections):
    missing = {(m, p) for m, p, _ in operations(schema)} - set(sections)
    assert not missing, f"docs/api.md: no '### METHOD /path' section for {sorted(missing)}"


def test_no_section_describes_an_operation_the_schema_lacks(schema, sections):
    extra = set(sections) - {(m, p) for m, p, _ in operations(schema)}
    assert not extra, f"docs/api.md describes operations the API does not have: {extra}"


def test_each_section_lists_every_status_and_code_the_schema_documents(schema, sections):
    problems = []
    for method, path, operation in operations(schema):
        section = sections.get((method, path), "")
        for status, response in operation["responses"].items():
            if not re.search(rf"^- `{status}\b", section, re.M):
                problems.append(f"{method.upper()} {path}: no '- `{status}' bullet")
            for code in sorted(detail_codes(response)):
                if code not in section:
                    problems.append(f"{method.upper()} {path}: {status} {code} not mentioned")
    assert not problems, "\n".join(problems)


def error_codes() -> set[str]:
    constants = {
        value
        for name, value in vars(errors).items()
        if name.isupper() and isinstance(value, str) and value == name
    }
    return constants | set(errors.BY_STATUS.values())


def test_every_error_code_is_explained():
    text = API_MD.read_text()
    codes = error_codes()
    assert errors.LOGIN_BAD_CREDENTIALS in codes and "NOT_FOUND" in codes
    missing = sorted(code for code in codes if f"`{code}`" not in text)
    assert not missing, f"docs/api.md does not explain {missing}"


def test_every_setting_it_names_is_read_by_the_project():
    text = API_MD.read_text()
    settings_py = SETTINGS_PY.read_text()
    table = text.split("## Settings that change what a client sees", 1)[1]
    names = set(re.findall(r"^\| `([A-Z_]+)`", table, re.M))
    assert "REFRESH_TOKEN_ROTATE" in names
    unknown = sorted(name for name in names if f'"{name}"' not in settings_py)
    assert not unknown, f"docs/api.md documents settings nothing reads: {unknown}"


def test_the_readme_points_to_docs_api_md_not_outside_the_clone():
    readme = README.read_text()
    assert "docs/api.md" in readme
    assert "../shared" not in readme
