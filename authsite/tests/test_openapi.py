"""The OpenAPI schema at /api/schema/ and the docs page at /api/docs/."""

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

from authsite import testing
from tokens import errors
from tokens.settings import tokens_settings

# The project (its endpoints, middleware, docs), not the tokens app alone.

# (method, path) -> {status: the codes its body may carry}, from the contract.
CONTRACT = {
    ("post", "/api/auth/register"): {
        400: {"REGISTER_USER_ALREADY_EXISTS"},
        403: {errors.ORIGIN_NOT_ALLOWED},
        429: None,
    },
    ("post", "/api/auth/login"): {
        400: {errors.LOGIN_BAD_CREDENTIALS},
        403: {errors.ORIGIN_NOT_ALLOWED},
        429: None,
    },
    ("post", "/api/auth/refresh"): {
        401: {errors.REFRESH_TOKEN_MISSING, errors.REFRESH_TOKEN_INVALID, errors.USER_INACTIVE},
        403: {errors.ORIGIN_NOT_ALLOWED},
        429: None,
    },
    ("post", "/api/auth/logout"): {
        401: {errors.NOT_AUTHENTICATED},
        403: {errors.ORIGIN_NOT_ALLOWED},
        429: None,
    },
    ("post", "/api/auth/reauthenticate"): {
        400: {errors.REAUTHENTICATE_BAD_PASSWORD},
        401: {errors.NOT_AUTHENTICATED},
        429: None,
    },
    ("post", "/api/auth/logout-all"): {
        401: {errors.NOT_AUTHENTICATED},
        403: {errors.REAUTHENTICATION_REQUIRED},
        429: None,
    },
    ("get", "/api/auth/sessions"): {401: {errors.ACCESS_TOKEN_INVALID}},
    ("delete", "/api/auth/sessions/{session_id}"): {
        401: {errors.NOT_AUTHENTICATED},
        403: {errors.REAUTHENTICATION_REQUIRED},
        404: None,
    },
    ("post", "/api/auth/change-password"): {
        400: {"CHANGE_PASSWORD_INVALID_CURRENT"},
        401: {errors.NOT_AUTHENTICATED},
        429: None,
    },
    ("get", "/api/auth/notifications"): {401: {errors.ACCESS_TOKEN_INVALID}},
    ("put", "/api/auth/notifications"): {
        400: {errors.MALFORMED_BODY},
        401: {errors.NOT_AUTHENTICATED},
    },
    ("get", "/api/users/me"): {401: {errors.ACCESS_TOKEN_INVALID}},
    ("get", "/api/health"): {503: {errors.SERVICE_UNAVAILABLE}},
    ("post", "/api/auth/introspect"): {
        401: {errors.NOT_AUTHENTICATED},
        429: None,
    },
    ("get", "/.well-known/jwks.json"): {200: None},
}
COOKIE_ONLY = {"/api/auth/refresh"}
PUBLIC = {"/api/auth/register", "/api/auth/login", "/api/health", "/.well-known/jwks.json"}
SERVICE_ONLY = {"/api/auth/introspect"}  # HTTP Basic with a service's credentials


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def codes_of(response_object: dict) -> set[str]:
    """Every ``detail`` code a documented response body may carry."""
    schema = response_object["content"]["application/json"]["schema"]
    options = schema.get("oneOf", [schema])
    return {
        code
        for option in options
        for code in option.get("properties", {}).get("detail", {}).get("enum", [])
    }


def test_every_endpoint_of_the_contract_is_described(schema):
    described = {
        (method, path) for path, operations in schema["paths"].items() for method in operations
    }
    assert described == set(CONTRACT)


@pytest.mark.parametrize(("method", "path"), sorted(CONTRACT))
def test_each_documented_error_carries_its_codes(schema, method, path):
    responses = schema["paths"][path][method]["responses"]
    for status, codes in CONTRACT[(method, path)].items():
        assert str(status) in responses, (method, path, status)
        if codes:
            assert codes <= codes_of(responses[str(status)]), (method, path, status)
    # Every operation may answer 503 when the database is gone, and says so.
    assert errors.SERVICE_UNAVAILABLE in codes_of(responses["503"])
    if "429" in responses:
        assert errors.RATE_LIMITED in codes_of(responses["429"])
        assert "Retry-After" in responses["429"]["headers"]


def test_cookie_authenticates_refresh_and_logout_bearer_the_rest(schema, settings):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["refreshCookie"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": tokens_settings.REFRESH_TOKEN_COOKIE_NAME,
        "description": schemes["refreshCookie"]["description"],
    }
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    for (method, path), _ in CONTRACT.items():
        security = schema["paths"][path][method].get("security", [{}])
        names = {name for requirement in security for name in requirement}
        if path in COOKIE_ONLY:
            assert names == {"refreshCookie"}, path
        elif path == "/api/auth/logout":
            assert names == {"bearerAuth", "refreshCookie"}
        elif path in SERVICE_ONLY:
            assert names == {"introspectionClient"}, path
            assert schemes["introspectionClient"] == {
                "type": "http",
                "scheme": "basic",
                "description": schemes["introspectionClient"]["description"],
            }
        elif path in PUBLIC:
            # Said, not left out: a linter cannot tell a public operation from a forgotten one.
            assert schema["paths"][path][method]["security"] == [], path
        else:
            assert names == {"bearerAuth"}, path


def test_the_schema_is_valid_openapi_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))


@pytest.mark.django_db
def test_docs_page_uses_bundled_assets_not_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


@pytest.mark.django_db
def test_docs_assets_are_served_with_debug_off(client, settings):
    settings.DEBUG = False
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    # Nothing outside the package directory: a traversal is refused.
    assert client.get("/static/drf_spectacular_sidecar/../../settings.py").status_code == 400


def _component(schema: dict, reference: dict) -> dict:
    return schema["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]


def _request_body(schema: dict, path: str, content_type: str = "application/json") -> dict:
    content = schema["paths"][path]["post"]["requestBody"]["content"]
    return _component(schema, content[content_type]["schema"])


def test_new_passwords_say_the_validators_minimum_length(schema):
    from accounts.serializers import password_min_length

    assert password_min_length() == 8  # MinimumLengthValidator's default, as configured
    register = _request_body(schema, "/api/auth/register")
    change = _request_body(schema, "/api/auth/change-password")
    assert register["properties"]["password"]["minLength"] == 8
    assert change["properties"]["new_password"]["minLength"] == 8
    assert change["properties"]["current_password"].get("minLength", 1) == 1  # any old one


def test_password_min_length_follows_the_configured_validator(settings):
    from accounts.serializers import password_min_length

    validators = [
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 12},
        },
    ]
    settings.AUTH_PASSWORD_VALIDATORS = validators
    assert password_min_length() == 12
    settings.AUTH_PASSWORD_VALIDATORS = validators[:1]
    assert password_min_length() == 1


def test_login_documents_each_body_with_what_it_requires(schema):
    content = schema["paths"]["/api/auth/login"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
    json_body = _request_body(schema, "/api/auth/login")
    form_body = _request_body(schema, "/api/auth/login", "application/x-www-form-urlencoded")
    assert set(json_body["required"]) == {"email", "password"}
    assert set(json_body["properties"]) == {"email", "password", "remember_me"}
    assert set(form_body["required"]) == {"username", "password"}
    assert set(form_body["properties"]) == {"username", "password", "remember_me"}
    for body in (json_body, form_body):
        assert body["properties"]["password"]["type"] == "string"
        assert body["properties"]["remember_me"]["type"] == "boolean"


def _csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = [part.split() for part in policy.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


@pytest.mark.django_db
def test_docs_page_has_a_strict_content_security_policy(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, no other host
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    for directive, sources in csp.items():
        assert "'unsafe-inline'" not in sources, directive
        assert "'unsafe-eval'" not in sources, directive
        assert "*" not in sources, directive


@pytest.mark.django_db
def test_every_script_and_style_of_the_docs_page_is_allowed_by_its_policy(client):
    import base64
    import hashlib
    import re

    response = client.get("/api/docs/")
    page = response.content.decode()
    csp = _csp(response)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts
    sources = []
    for attributes, body in scripts:
        # Same-origin files only ('self'): a relative src, and no inline code.
        [src] = re.findall(r'src="([^"]+)"', attributes)
        assert src.startswith("/") and not src.startswith("//"), src
        assert body.strip() == "", body[:80]
        sources.append(src.replace("&amp;", "&"))
    # The last one, Swagger UI's init script with its settings, comes from this view.
    script = client.get(sources[-1])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    for css in re.findall(r"<style[^>]*>(.*?)</style>", page, re.S):
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp["style-src"]
    assert "style=" not in page  # style attributes would need 'unsafe-inline'


def test_the_cookie_scheme_is_named_after_the_cookie_setting(settings):
    from drf_spectacular.generators import SchemaGenerator

    settings.TOKENS = {**settings.TOKENS, "REFRESH_TOKEN_COOKIE_NAME": "__Secure-sid"}
    document = SchemaGenerator().get_schema(request=None, public=True)
    assert document["components"]["securitySchemes"]["refreshCookie"]["name"] == "__Secure-sid"


def test_the_document_names_its_server_and_license(schema):
    assert schema["servers"] == [{"url": django_settings.PUBLIC_URL}]
    assert schema["info"]["license"]["name"] == "MIT"  # LICENSE, pyproject.toml
    assert (testing.ROOT / "LICENSE").read_text().startswith("MIT License")


def _components_of(schema: dict, node) -> set[str]:
    """The names of the components that ``node`` refers to, directly or through others."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            name = item.get("$ref", "").rpartition("/")[2]
            if name and name not in found:
                found.add(name)
                pending.append(schema["components"]["schemas"][name])
            pending.extend(value for key, value in item.items() if key != "$ref")
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _operations(schema: dict):
    for operations in schema["paths"].values():
        yield from operations.values()


# Response fields that are rightly absent from some answers: an inactive token's
# introspection is {"active": false} alone (and a bearer token's has no "cnf"), and an
# Ed25519 key has no "y".
SOMETIMES_ABSENT = {
    "Introspection": {
        *("sub", "sid", "exp", "iat", "auth_time", "jti", "iss", "aud", "token_type", "cnf")
    },
    "JwksKey": {"y"},
}


def test_every_field_a_response_always_has_is_required(schema):
    """A generated client types a field that is not required as possibly undefined
    (openapi-typescript: ``created_at?: string``), so every reader has to check it."""
    names = set().union(*(_components_of(schema, op["responses"]) for op in _operations(schema)))
    assert {"Session", "Token", "User"} <= names
    for name in names:
        component = schema["components"]["schemas"][name]
        optional = set(component.get("properties", {})) - set(component.get("required", []))
        assert optional == SOMETIMES_ABSENT.get(name, set()), name


def test_no_optional_input_carries_a_default(schema):
    """openapi-typescript types a property with a ``default`` as always present, so an
    optional input with one (remember_me) would have to be sent by a generated client."""
    names = set().union(
        *(_components_of(schema, op.get("requestBody", {})) for op in _operations(schema))
    )
    assert {"LoginJsonRequest", "LoginFormRequest"} <= names
    for name in names:
        component = schema["components"]["schemas"][name]
        required = set(component.get("required", []))
        for field, spec in component.get("properties", {}).items():
            assert field in required or "default" not in spec, (name, field)
    assert "remember_me" not in _request_body(schema, "/api/auth/login").get("required", [])
