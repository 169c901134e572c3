"""The stock project of the HTTP benchmark is what ``django-admin startproject`` makes."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(django.__file__).parent / "conf/project_template/project_name/settings.py-tpl"


def template_setting(name: str) -> list[str]:
    """A list setting as Django's own startproject template writes it."""
    source = TEMPLATE.read_text().replace("{{ ", "").replace(" }}", "")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return ast.literal_eval(node.value)
    raise LookupError(name)


def stock_settings() -> dict:
    code = (
        "import json; from django.conf import settings as s\n"
        "print(json.dumps({'MIDDLEWARE': s.MIDDLEWARE, 'INSTALLED_APPS': s.INSTALLED_APPS,"
        " 'AUTH_USER_MODEL': s.AUTH_USER_MODEL, 'SIMPLE_JWT': s.SIMPLE_JWT,"
        " 'CONN_MAX_AGE': s.DATABASES['default']['CONN_MAX_AGE']}))\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.stock.settings",
        "SECRET_KEY": "stock-test-" + "k" * 50,
        "DATABASE_URL": "sqlite:///:memory:",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_the_stock_project_keeps_startprojects_middleware_and_apps():
    settings = stock_settings()
    assert settings["MIDDLEWARE"] == template_setting("MIDDLEWARE")
    apps = template_setting("INSTALLED_APPS")
    assert settings["INSTALLED_APPS"] == [
        *apps,
        "rest_framework",
        "rest_framework_simplejwt",
        "rest_framework_simplejwt.token_blacklist",
    ]
    assert settings["AUTH_USER_MODEL"] == "auth.User"
    assert settings["SIMPLE_JWT"] == {
        "ROTATE_REFRESH_TOKENS": True,
        "BLACKLIST_AFTER_ROTATION": True,
    }
    assert settings["CONN_MAX_AGE"] == 60  # as ours (authsite/settings.py)
