"""Child process of bench/http_bench.py: seed users and sessions, print what the clients need.

    python bench/seed.py SPEC_JSON   (DJANGO_SETTINGS_MODULE=bench.simplejwt_settings)

SPEC: {"prefix": str, "password": str, "chains": n,
"logout": n, "logout_all": n, "sessions_per_user": n, "login_users": n}.
``login_users`` users with the cheap hasher and as many with Argon2 (``argon2_emails``).
Prints one JSON object: for our service and for simplejwt, ``chains`` refresh tokens
(one user each), a ``logout`` pool of refresh tokens, a ``logout_all`` pool of access
tokens (users with ``sessions_per_user`` live sessions), ``login_users`` emails and a
bearer token. The password is hashed once and shared, and everything is one transaction.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

django.setup()

from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    MD5PasswordHasher,
    make_password,
)
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken

from accounts.models import User
from tokens import services


def users(prefix: str, count: int, hashed: str) -> list[User]:
    return User.objects.bulk_create(
        [User(email=f"{prefix}{i}@bench.example", password=hashed) for i in range(count)]
    )


def seed(spec: dict) -> dict:
    hashed = make_password(spec["password"], hasher=MD5PasswordHasher())
    p, per_user = spec["prefix"], spec["sessions_per_user"]
    out = {}
    with transaction.atomic():
        login = users(f"{p}login", spec["login_users"], hashed)
        out["login_emails"] = [u.email for u in login]
        argon2 = make_password(spec["password"], hasher=Argon2PasswordHasher())
        out["argon2_emails"] = [u.email for u in users(f"{p}argon2", spec["login_users"], argon2)]
        # Ours: sessions through the service (the row, its binding, its tokens).
        chains = users(f"{p}ours-chain", spec["chains"], hashed)
        out["ours_chain"] = [services.start_session(u).refresh_token for u in chains]
        out["ours_chain_norotate"] = [services.start_session(u).refresh_token for u in chains]
        out["ours_bearer"] = services.start_session(chains[0]).access_token
        out["ours_session"] = str(services.start_session(chains[0]).session.id)
        logout = users(f"{p}ours-logout", -(-spec["logout"] // per_user), hashed)
        out["ours_logout"] = [
            services.start_session(u).refresh_token for _ in range(per_user) for u in logout
        ][: spec["logout"]]
        out["ours_logout_all"] = []
        for u in users(f"{p}ours-all", spec["logout_all"], hashed):
            issued = [services.start_session(u) for _ in range(per_user)]
            out["ours_logout_all"].append(issued[-1].access_token)
        # simplejwt: for_user() records each refresh token as an OutstandingToken.
        chains = users(f"{p}sj-chain", spec["chains"], hashed)
        out["sj_chain"] = [str(SimpleRefreshToken.for_user(u)) for u in chains]
        out["sj_bearer"] = str(SimpleAccessToken.for_user(chains[0]))
        logout = users(f"{p}sj-logout", -(-spec["logout"] // per_user), hashed)
        out["sj_logout"] = [
            str(SimpleRefreshToken.for_user(u)) for _ in range(per_user) for u in logout
        ][: spec["logout"]]
        out["sj_logout_all"] = []
        for u in users(f"{p}sj-all", spec["logout_all"], hashed):
            for _ in range(per_user):
                SimpleRefreshToken.for_user(u)
            out["sj_logout_all"].append(str(SimpleAccessToken.for_user(u)))
    return out


if __name__ == "__main__":
    print(json.dumps(seed(json.loads(sys.argv[1]))))
