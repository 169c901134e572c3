"""The OpenAPI document as a frontend's tools read it (examples/typescript-client).

The document a deployment publishes (``manage.py spectacular``) passes
openapi-spec-validator and Redocly's lint under the rule set of
examples/typescript-client/openapi-lint.yaml, and the types openapi-typescript generates
from it check the typed client (openapi-fetch: login, refresh, me, sessions, revoke,
logout) with ``tsc --strict``. The npm tools skip without Node, and fail when
REQUIRE_NODE=1 (CI).
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from authsite import testing
from authsite.tests.interop import node

EXAMPLE = testing.ROOT / "examples" / "typescript-client"
# A deployment's public URL: the document's `servers` entry. (Redocly's recommended rules
# refuse localhost and example.com there, the development default.)
PUBLIC_URL = "https://auth.authsite.test"
RUN_SECONDS = 120


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> Path:
    """The OpenAPI document as ``manage.py spectacular`` dumps it for a deployment."""
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    env = testing.base_env(PUBLIC_URL=PUBLIC_URL)
    testing.manage(env, "spectacular", "--format", "openapi-json", "--file", str(path))
    return path


@pytest.fixture(scope="module")
def npm_tools() -> Path:
    """examples/typescript-client's node_modules/.bin, installed from its lockfile."""
    node.require_node(EXAMPLE)
    return EXAMPLE / "node_modules" / ".bin"


def run(*command: str | Path, cwd: Path = EXAMPLE) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


def test_openapi_spec_validator_accepts_the_document(document):
    schema = json.loads(document.read_text())
    validate(schema)
    assert schema["servers"] == [{"url": PUBLIC_URL}]
    assert schema["info"]["license"]["name"] == "MIT"


def test_redocly_lint_passes_under_the_chosen_rules(npm_tools, document):
    result = run(npm_tools / "redocly", "lint", "--config", "openapi-lint.yaml", document)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Your API description is valid" in result.stdout + result.stderr


def test_the_generated_types_check_the_typed_client_under_strict(npm_tools, document, tmp_path):
    # A copy of the client beside the freshly generated api.d.ts, with the example's
    # packages, so concurrent runs of one checkout never share a generated file.
    shutil.copytree(EXAMPLE / "src", tmp_path / "src", ignore=shutil.ignore_patterns("api.d.ts"))
    shutil.copy(EXAMPLE / "tsconfig.json", tmp_path)
    (tmp_path / "node_modules").symlink_to(EXAMPLE / "node_modules")
    generated = run(
        npm_tools / "openapi-typescript", document, "--output", tmp_path / "src" / "api.d.ts"
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    tsconfig = json.loads((tmp_path / "tsconfig.json").read_text())
    assert tsconfig["compilerOptions"]["strict"] is True
    checked = run(npm_tools / "tsc", "--project", tmp_path / "tsconfig.json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
