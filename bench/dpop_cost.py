"""What binding a session to a DPoP key (RFC 9449) costs: an authenticated GET and a
rotating refresh, unbound (a bearer token, a bare cookie) and bound (a proof on each
request), called in-process through Django's WSGI handler.

    .venv/bin/python bench/dpop_cost.py [--requests 1000] [--runs 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/dpop_cost.py

The set-up is bench/profile_layers.py's (production settings, every middleware, the rate
limiter and the proofs' jti store on Redis db 5, a temporary SQLite file or a throwaway
PostgreSQL database). The proofs are signed before each run, not during it: a client
signs its own, so the figures are the server's. The runs alternate the four cases;
each figure is the median of the runs' wall and this process's CPU µs per request.
Not part of the test suite.
"""

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.profile_layers import PASSWORD, Client, configure, environ, setup_database

HOST = "http://testserver"


class Signer:
    """The client's P-256 key (the bundled page's WebCrypto key is one too)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        algorithm = jwt.get_algorithm_by_name("ES256")
        self.jwk = json.loads(algorithm.to_jwk(self.private.public_key()))

    def proof(self, method: str, path: str, ath: str | None = None) -> str:
        claims = {"jti": uuid.uuid4().hex, "htm": method, "htu": HOST + path}
        claims["iat"] = int(time.time())
        if ath is not None:
            claims["ath"] = ath
        headers = {"typ": "dpop+jwt", "jwk": self.jwk}
        return jwt.encode(claims, self.private, algorithm="ES256", headers=headers)


class BoundClient(Client):
    """profile_layers' client, with a proof on every request (made beforehand)."""

    def __init__(self, handler, issued, signer: Signer, dpop) -> None:
        super().__init__(handler, issued)
        self.bearer = f"DPoP {issued.access_token}"
        self.signer, self.ath = signer, dpop.access_token_hash(issued.access_token)
        self.proofs: list[str] = []

    def sign(self, count: int, method: str, path: str, ath: str | None) -> None:
        self.proofs = [self.signer.proof(method, path, ath) for _ in range(count)]

    def get_me(self) -> None:
        headers = {"HTTP_AUTHORIZATION": self.bearer, "HTTP_DPOP": self.proofs.pop()}
        self.call(environ("GET", "/api/users/me", headers))

    def refresh(self) -> None:
        cookie = f"refresh_token={self.refresh_token}"
        headers = {"HTTP_COOKIE": cookie, "HTTP_DPOP": self.proofs.pop()}
        _, answer = self.call(environ("POST", "/api/auth/refresh", headers))
        cookies = (v.strip() for n, v in answer if n == "Set-Cookie")
        fresh = next(c for c in cookies if c.startswith("refresh_token="))
        self.refresh_token = fresh.split(";", 1)[0].split("=", 1)[1]


def timed(operation, count: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(count):
        operation()
    return (time.perf_counter() - wall) / count * 1e6, (time.thread_time() - cpu) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url, drop = setup_database()
    configure(url)
    try:
        import django

        django.setup()
        import logging

        from django.contrib.auth import get_user_model
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.management import call_command
        from django.db import connection

        from tokens import dpop, services

        logging.disable(logging.CRITICAL)  # the audit lines would time the terminal
        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user(
            email=f"dpop-{uuid.uuid4().hex[:6]}@bench.example", password=PASSWORD
        )
        handler, signer = WSGIHandler(), Signer()
        unbound = Client(handler, services.start_session(user))
        issued = services.login(
            username=user.email, password=PASSWORD, dpop_jkt=dpop.thumbprint(signer.jwk)
        )
        bound = BoundClient(handler, issued, signer, dpop)
        cases = {
            "GET /api/users/me, bearer": (unbound.get_me, None),
            "GET /api/users/me, DPoP-bound": (bound.get_me, ("GET", "/api/users/me", bound.ath)),
            "refresh, unbound": (unbound.refresh, None),
            "refresh, DPoP-bound": (bound.refresh, ("POST", "/api/auth/refresh", None)),
        }
        results = {name: [] for name in cases}
        for run in range(args.runs + 1):
            for name, (operation, proof) in cases.items():
                count = 100 if run == 0 else args.requests  # the first run warms up
                if proof:
                    bound.sign(count, *proof)
                figures = timed(operation, count)
                if run:
                    results[name].append(figures)
        print(f"database: {connection.vendor}; {args.runs} runs of {args.requests}\n")
        print("| case | wall µs | CPU µs |")
        print("|---|---:|---:|")
        for name, runs in results.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"| {name} | {wall:,.0f} | {cpu:,.0f} |")
        connection.close()
    finally:
        drop()


if __name__ == "__main__":
    main()
