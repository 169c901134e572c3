"""Fixtures of the interoperability tests: Node's clients, and a user of a live server."""

import pytest
import requests

from authsite.tests.interop import node as node_clients

EMAIL, PASSWORD = "ada@example.com", "correct horse battery staple"


@pytest.fixture(scope="session")
def node():
    """``node(command, **request)``: one command of clients.mjs (jose, openid-client)."""
    node_clients.require_node()
    return node_clients.run


def register_and_login(url: str) -> dict:
    """Register EMAIL on the server at ``url`` and log in; the login's JSON body."""
    registered = requests.post(
        f"{url}/api/auth/register", json={"email": EMAIL, "password": PASSWORD}, timeout=30
    )
    assert registered.status_code == 201, registered.text
    return login(url)


def login(url: str) -> dict:
    response = requests.post(
        f"{url}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()
