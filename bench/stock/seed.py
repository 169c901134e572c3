"""Child process of bench/http_bench.py: seed the stock project's users and tokens.

    python bench/stock/seed.py SPEC_JSON   (DJANGO_SETTINGS_MODULE=bench.stock.settings)

SPEC as bench/seed.py's (``prefix``, ``password``, ``chains``, ``logout``,
``login_users``). Prints one JSON object: ``stock_chain`` (``chains`` refresh tokens,
one user each), ``stock_bearer`` (an access token), ``stock_logout`` (``logout``
refresh tokens) and ``stock_login_emails`` (usernames, which are the emails here).
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import django

django.setup()

from django.contrib.auth.hashers import MD5PasswordHasher, make_password
from django.contrib.auth.models import User
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken


def users(prefix: str, count: int, hashed: str) -> list[User]:
    emails = [f"{prefix}{i}@bench.example" for i in range(count)]
    return User.objects.bulk_create(
        [User(username=email, email=email, password=hashed) for email in emails]
    )


def seed(spec: dict) -> dict:
    hashed = make_password(spec["password"], hasher=MD5PasswordHasher())
    p = spec["prefix"]
    with transaction.atomic():
        login = users(f"{p}stock-login", spec["login_users"], hashed)
        chains = users(f"{p}stock-chain", spec["chains"], hashed)
        logout = users(f"{p}stock-logout", 1, hashed)[0]
        return {
            "stock_login_emails": [u.username for u in login],
            # for_user() records each refresh token as an OutstandingToken.
            "stock_chain": [str(RefreshToken.for_user(u)) for u in chains],
            "stock_bearer": str(AccessToken.for_user(chains[0])),
            "stock_logout": [str(RefreshToken.for_user(logout)) for _ in range(spec["logout"])],
        }


if __name__ == "__main__":
    print(json.dumps(seed(json.loads(sys.argv[1]))))
