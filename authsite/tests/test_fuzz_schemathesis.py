"""Generated attacks: schemathesis against the live OpenAPI schema of a running server.

One gunicorn process (SQLite, or PostgreSQL when the suite runs on it), every operation
of /api/schema/ fuzzed with valid (positive) and invalid (negative) requests. Most
requests carry a live session's bearer token and refresh cookie, some a used one, some
none, so the authenticated paths and the refusals are both reached. Every response must
be a non-5xx that the schema documents: status, content type, headers and body.
"""

import collections
import itertools
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from authsite import testing
from tokens.tests import live

pytestmark = pytest.mark.slow

# The project (its endpoints, middleware, docs), not the tokens app alone.

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 90, GenerationMode.NEGATIVE: 60}
MINIMUM_REQUESTS = 1000
FOREIGN_PAGE = {
    2: {"Origin": "https://evil.example"},
    4: {"Sec-Fetch-Site": "cross-site"},
}


def _with_real_credentials(case, session: dict) -> None:
    """Every other generated login names a real user with the right password, and every
    other session deletion names the caller's own session, so the success responses
    (and their cookies) are checked against the schema too."""
    if hash(session["refresh_token"]) % 2:
        return
    body = case.body
    if case.path == "/api/auth/login" and isinstance(body, dict) and "password" in body:
        for name in ("email", "username"):
            if name in body:
                body[name] = session["email"]
        body["password"] = live.SEEDED_PASSWORD
    if case.path == "/api/auth/sessions/{session_id}" and case.path_parameters:
        case.path_parameters["session_id"] = session["session_id"]


class Credentials:
    """Hands out live sessions, now and then a used one or nothing at all."""

    def __init__(self, sessions: list[dict]) -> None:
        self._fresh = iter(sessions)
        self._used: dict | None = None
        self._turn = itertools.count()

    def next(self) -> dict | None:
        turn = next(self._turn)
        if turn % 7 == 3:
            return None  # no credentials: the 401 paths
        if turn % 5 == 1 and self._used is not None:
            return self._used  # probably revoked or rotated by now
        self._used = next(self._fresh, self._used)
        return self._used


def test_generated_requests_never_5xx_and_conform(fuzz_server):
    url = fuzz_server.url
    schema = schemathesis.openapi.from_url(f"{url}/api/schema/?format=json")
    credentials = Credentials(
        live.seed_sessions(
            fuzz_server.env, users=150, sessions_per_user=10, project=testing.AUTHSITE
        )
    )
    cookie_name = "refresh_token"
    requests_by_operation: collections.Counter = collections.Counter()
    statuses: collections.Counter = collections.Counter()
    outcomes: collections.Counter = collections.Counter()
    failures: list[str] = []

    def send(case) -> None:
        session = credentials.next()
        headers = dict(case.headers or {})
        cookies = {}
        if session is not None:
            # Replaces the random Authorization schemathesis generates from the scheme;
            # turns without a session keep it, so forged tokens are sent too.
            headers["Authorization"] = f"Bearer {session['access_token']}"
            cookies[cookie_name] = session["refresh_token"]
            _with_real_credentials(case, session)
        # Now and then a request "from" a foreign page, so the Origin check's 403 is
        # reached (and checked against the schema) too.
        headers.update(FOREIGN_PAGE.get(sum(requests_by_operation.values()) % 6, {}))
        response = case.call(base_url=url, headers=headers, cookies=cookies, timeout=30)
        label = f"{case.method.upper()} {case.path}"
        requests_by_operation[label] += 1
        statuses[response.status_code] += 1
        outcomes[f"{label} {response.status_code}"] += 1
        if "Authorization" in (case.headers or {}):
            outcomes["generated Authorization"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, AssertionError) as exc:  # collect them all, report at the end
            failures.append(f"{label} -> {response.status_code}: {exc}")

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in EXAMPLES.items():
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def fuzz(case) -> None:
                send(case)

            try:
                fuzz()
            except Unsatisfiable:
                # An operation with nothing to negate (no body, no parameters).
                assert mode is GenerationMode.NEGATIVE, operation.label

    total = sum(requests_by_operation.values())
    summary = {
        "database": fuzz_server.env["DATABASE_URL"].split(":", 1)[0],
        "requests": total,
        "by_operation": dict(sorted(requests_by_operation.items())),
        "by_status": dict(sorted(statuses.items())),
        "by_outcome": dict(sorted(outcomes.items())),
        "server_errors": sum(n for status, n in statuses.items() if status >= 500),
        "failures": len(failures),
    }
    print("schemathesis summary:", json.dumps(summary, indent=2))
    assert not failures, "\n".join(failures[:20])
    assert summary["server_errors"] == 0
    assert total >= MINIMUM_REQUESTS, summary
    assert len(requests_by_operation) == len(list(schema.get_all_operations())), summary
