"""The HTTP benchmark's cases: each a server and the load wrk sends it in a round."""

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.wrkrun import Load

PASSWORD = "benchmark passphrase 1"
SESSIONS_PER_USER = 10  # logout-all revokes this many sessions per request


@dataclass
class Case:
    """One row of the table: a server, and the load wrk sends it in a round."""

    key: str
    label: str
    server: str
    load: Callable[[dict, dict], Load]  # (pool files, seeded tokens) -> what wrk sends
    pool: str | None = None  # the seeded pool it consumes, sized from its rate
    rounds: list[dict] = field(default_factory=list)
    warm_up: dict | None = None


def cases() -> list[Case]:
    """The rows, in the order a round runs them (ours, then simplejwt's same operation)."""

    def static(*args):
        return lambda f, s: Load("static.lua", list(args))

    def bearer(path, token_key):
        return lambda f, s: Load(
            "static.lua", ["GET", path, "Authorization", f"Bearer {s[token_key]}"]
        )

    def chain(pool, mode, path):
        return lambda f, s: Load("chain.lua", [str(f[pool]), "1", mode, path])

    def pool(name, cycle, method, path, header="", value="", body=""):
        return lambda f, s: Load(
            "pool.lua", [str(f[name]), "1", cycle, method, path, header, value, body]
        )

    # "{}" is pool.lua's placeholder for the line (an email), not Python's.
    login = '{"email": "{}", "password": "' + PASSWORD + '"}'
    stock_login = '{"username": "{}", "password": "' + PASSWORD + '"}'
    return [
        Case("floor_get", "floor: bare DRF view, GET", "ours", static("GET", "/bench/floor")),
        Case("floor_post", "floor: bare DRF view, POST", "ours", static("POST", "/bench/floor")),
        Case(
            "write_floor",
            "write floor: one single-row UPDATE",
            "ours",
            lambda f, s: Load("static.lua", ["POST", f"/bench/write-floor/{s['ours_session']}"]),
        ),
        Case(
            "auth_get",
            "ours: authenticated GET /api/users/me",
            "ours",
            bearer("/api/users/me", "ours_bearer"),
        ),
        Case(
            "sj_auth_get",
            "simplejwt: authenticated GET, same serializer",
            "sj",
            bearer("/sj/me", "sj_bearer"),
        ),
        Case(
            "stock_auth_get",
            "stock project: simplejwt authenticated GET, ModelSerializer",
            "stock",
            bearer("/api/users/me", "stock_bearer"),
        ),
        Case(
            "refresh",
            "ours: refresh, rotating",
            "ours",
            chain("ours_chain", "cookie", "/api/auth/refresh"),
        ),
        Case(
            "sj_refresh",
            "simplejwt: refresh, rotate + blacklist",
            "sj",
            chain("sj_chain", "json", "/sj/refresh"),
        ),
        Case(
            "stock_refresh",
            "stock project: simplejwt refresh, rotate + blacklist",
            "stock",
            chain("stock_chain", "json", "/api/token/refresh/"),
        ),
        Case(
            "refresh_norotate",
            "ours: refresh, REFRESH_TOKEN_ROTATE=false",
            "ours_norotate",
            chain("ours_chain_norotate", "cookie", "/api/auth/refresh"),
        ),
        Case(
            "login",
            "ours: login (MD5 hasher)",
            "ours",
            pool("login_emails", "1", "POST", "/api/auth/login", body=login),
        ),
        Case(
            "sj_login",
            "simplejwt: token obtain pair (MD5 hasher)",
            "sj",
            pool("login_emails", "1", "POST", "/sj/login", body=login),
        ),
        Case(
            "stock_login",
            "stock project: token obtain pair (MD5 hasher)",
            "stock",
            pool("stock_login_emails", "1", "POST", "/api/token/", body=stock_login),
        ),
        Case(
            "login_argon2",
            "ours: login (Argon2)",
            "ours_argon2",
            pool("argon2_emails", "1", "POST", "/api/auth/login", body=login),
        ),
        Case(
            "sj_login_argon2",
            "simplejwt: token obtain pair (Argon2)",
            "sj_argon2",
            pool("argon2_emails", "1", "POST", "/sj/login", body=login),
        ),
        Case(
            "logout",
            "ours: logout by cookie",
            "ours",
            pool("ours_logout", "0", "POST", "/api/auth/logout", "Cookie", "refresh_token={}"),
            pool="logout",
        ),
        Case(
            "sj_logout",
            "simplejwt: blacklist view",
            "sj",
            pool("sj_logout", "0", "POST", "/sj/logout", body='{"refresh": "{}"}'),
            pool="logout",
        ),
        Case(
            "stock_logout",
            "stock project: blacklist view",
            "stock",
            pool("stock_logout", "0", "POST", "/api/token/blacklist/", body='{"refresh": "{}"}'),
            pool="logout",
        ),
        Case(
            "logout_all",
            f"ours: logout-all, {SESSIONS_PER_USER} sessions",
            "ours",
            pool(
                "ours_logout_all", "0", "POST", "/api/auth/logout-all", "Authorization", "Bearer {}"
            ),
            pool="logout_all",
        ),
        Case(
            "sj_logout_all",
            f"simplejwt: blacklist {SESSIONS_PER_USER} outstanding (own view)",
            "sj",
            pool("sj_logout_all", "0", "POST", "/sj/logout-all", "Authorization", "Bearer {}"),
            pool="logout_all",
        ),
    ]
