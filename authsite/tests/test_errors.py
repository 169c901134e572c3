"""Whatever a client sends, the API answers JSON with a stable code, never a 500 page."""

import pytest

pytestmark = pytest.mark.django_db


def assert_json_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    if code is not None:
        assert response.json() == {"detail": code}


def test_unknown_api_url_is_json_404(api):
    assert_json_error(api.get("/api/nope"), 404, "NOT_FOUND")


def test_unknown_api_url_is_json_even_with_debug(api, settings):
    settings.DEBUG = True  # Django would show its technical 404 page
    assert_json_error(api.get("/api/nope"), 404, "NOT_FOUND")


def test_wrong_method_is_json_405(api):
    assert_json_error(api.get("/api/auth/login"), 405, "METHOD_NOT_ALLOWED")


def test_malformed_json_is_400(api, user):
    response = api.post("/api/auth/login", "{not json", content_type="application/json")
    assert_json_error(response, 400, "MALFORMED_BODY")


def test_wrong_content_type_is_415(api, user):
    response = api.post("/api/auth/login", "<xml/>", content_type="application/xml")
    assert_json_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "body", ['["a list"]', '"a string"', "null", "42", '{"email": ["x"], "password": {}}']
)
def test_json_of_the_wrong_shape_is_a_400(api, user, body):
    response = api.post("/api/auth/login", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_huge_body_is_a_json_4xx(api, user):
    response = api.post(
        "/api/auth/register",
        '{"email": "a@b.co", "password": "' + "x" * 3_000_000 + '"}',
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")


def test_non_ascii_everywhere_is_handled(api, user):
    response = api.post(
        "/api/auth/login",
        {"email": "ålice@exämple.com", "password": "pässwörd"},
        format="json",
        HTTP_USER_AGENT="Ünïcödé",
    )
    assert_json_error(response, 400, "LOGIN_BAD_CREDENTIALS")


def test_a_bug_in_a_plain_view_is_json_500_not_a_traceback(client, settings):
    settings.ROOT_URLCONF = "authsite.tests.urls_for_errors"
    settings.DEBUG = True
    client.raise_request_exception = False
    response = client.get("/api/broken-plain")
    assert_json_error(response, 500, "SERVER_ERROR")
    assert b"Traceback" not in response.content


def test_bad_host_header_is_json_400(api):
    response = api.get("/api/health", HTTP_HOST="evil.example")
    assert_json_error(response, 400, "BAD_REQUEST")


def test_non_api_pages_keep_djangos_own_answers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize(
    "path", ["/api/auth/login", "/api/auth/register", "/api/auth/change-password"]
)
def test_deeply_nested_json_is_a_json_400_not_a_500(api, user, login, bearer, path, depth):
    """Python's json parser gives up with RecursionError, which is not a ValueError."""
    headers = bearer(login()) if path.endswith("change-password") else {}
    response = api.post(path, "[" * depth, content_type="application/json", **headers)
    assert_json_error(response, 400, "MALFORMED_BODY")


def test_nesting_just_under_the_parser_limit_inside_a_field_is_a_400(api, user):
    # Parses, but a field holding a deep structure must not blow up later (validation,
    # rate-limit keys, error rendering) either.
    for depth in (500, 900, 950, 980):
        body = '{"email": ' + "[" * depth + "]" * depth + ', "password": "x"}'
        response = api.post("/api/auth/login", body, content_type="application/json")
        assert 400 <= response.status_code < 500, (depth, response.content)
        assert response["Content-Type"].startswith("application/json")


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _huge_body(api):
    return api.post(
        "/api/auth/register",
        '{"email": "a@b.co", "password": "' + "x" * 3_000_000 + '"}',
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "send",
    [
        lambda api: api.get("/api/nope"),  # Django's 404 page, rewritten
        lambda api: api.post("/api/schema/"),  # DRF's 405
        lambda api: api.put("/api/auth/login", {}, format="json"),  # DRF's 405
        _huge_body,  # over DATA_UPLOAD_MAX_MEMORY_SIZE, Django's 400
    ],
    ids=["404", "405-schema", "405-login", "too-large"],
)
def test_json_errors_keep_the_security_headers(api, send):
    response = send(api)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    for header, value in SECURITY_HEADERS.items():
        assert response.get(header) == value, (header, dict(response.headers))
    assert response["Cache-Control"] == "no-store"


def test_a_rewritten_500_keeps_the_security_headers(client, settings):
    settings.ROOT_URLCONF = "authsite.tests.urls_for_errors"
    client.raise_request_exception = False
    response = client.get("/api/broken-plain")
    assert_json_error(response, 500, "SERVER_ERROR")
    for header, value in SECURITY_HEADERS.items():
        assert response.get(header) == value, (header, dict(response.headers))
    assert response["Cache-Control"] == "no-store"
