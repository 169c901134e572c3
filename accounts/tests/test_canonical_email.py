"""An email address has one canonical form (NFKC, the domain through IDNA UTS #46,
lower-cased) for storage, lookup and rate limits; look-alikes are one account, and
addresses with invisible characters are refused."""

import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.emails import canonical_email
from accounts.models import User
from tokens.ratelimit import normalize_login_name

pytestmark = pytest.mark.django_db

PASSWORD = "a sturdy passphrase 42"

# Each group: spellings of one mailbox, the canonical form first.
LOOK_ALIKES = [
    [
        "v@example.com",
        "v@\uff45xample.com",  # a fullwidth small e
        "v@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",  # EXAMPLE in fullwidth capitals
        "V@EXAMPLE.COM",
        "\uff56@example.com",  # a fullwidth v in the local part
    ],
    [
        "bob@xn--caf-dma.example",
        "bob@caf\u00e9.example",  # NFC: a precomposed e-acute
        "bob@cafe\u0301.example",  # NFD: e and a combining acute accent
        "bob@XN--CAF-DMA.example",
        "bob@CAF\u00c9.EXAMPLE",
    ],
]
INVISIBLE = [
    "v@exam\u00adple.com",  # soft hyphen
    "v\u00ad@example.com",
    "v@exam\u200bple.com",  # zero-width space
    "v@exam\u200cple.com",  # zero-width non-joiner
    "v@exam\u200dple.com",  # zero-width joiner
    "v\u2060@example.com",  # word joiner
    "v@example.com\ufe0f",  # a variation selector
    "\ufeffv@example.com",  # byte order mark
    "v@exam\u3164ple.com",  # Hangul filler
    "v@exam\U000e0041ple.com",  # a tag character
]


def register(api, email: str):
    return api.post("/api/auth/register", {"email": email, "password": PASSWORD}, format="json")


def login(api, email: str):
    return api.post("/api/auth/login", {"email": email, "password": PASSWORD}, format="json")


@pytest.mark.parametrize("spellings", LOOK_ALIKES, ids=["fullwidth", "unicode-domain"])
@pytest.mark.parametrize("first", range(5))
def test_look_alike_spellings_are_one_account(api, spellings, first):
    canonical = spellings[0]
    created = register(api, spellings[first])
    assert created.status_code == 201, created.content
    assert created.json()["email"] == canonical
    for spelling in spellings:
        again = register(api, spelling)
        assert again.status_code == 400, spelling
        assert again.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}
        # Every spelling signs in to the one account, and counts against its one budget.
        assert login(api, spelling).status_code == 200, spelling
        assert normalize_login_name(spelling) == canonical
    assert list(User.objects.values_list("email", flat=True)) == [canonical]


@pytest.mark.parametrize("email", INVISIBLE)
def test_addresses_with_invisible_characters_are_refused(api, email):
    response = register(api, email)
    assert response.status_code == 400
    assert response.json() == {
        "email": [
            "Enter the address without invisible characters "
            "(such as a soft hyphen or a zero-width space)."
        ]
    }
    assert not User.objects.exists()


@pytest.mark.parametrize("email", INVISIBLE)
def test_and_sign_in_to_no_account(api, make_user, email):
    make_user("v@example.com", PASSWORD)
    response = login(api, email)
    assert response.status_code == 400
    assert response.json() == {"detail": "LOGIN_BAD_CREDENTIALS"}


@pytest.mark.parametrize(
    "email", ["v@exa_mple.com", "v@xn--zz.example", "v@-example.com", "v@exa..mple.com"]
)
def test_a_domain_that_idna_refuses_is_a_field_error(api, email):
    response = register(api, email)
    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}


def test_an_address_literal_keeps_its_brackets(api):
    response = register(api, "V@[127.0.0.1]")
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "v@[127.0.0.1]"


def test_the_manager_and_the_model_store_the_canonical_form():
    user = User.objects.create_user("bob@cafe\u0301.example", PASSWORD)
    assert user.email == "bob@xn--caf-dma.example"
    user.email = "BOB@CAF\u00c9.example"
    user.save()
    user.refresh_from_db()
    assert user.email == "bob@xn--caf-dma.example"
    assert User.objects.get_by_natural_key("bob@café.example") == user
    with pytest.raises(ValueError):
        User.objects.create_user("v@exam\u00adple.com", PASSWORD)


def test_the_admin_refuses_look_alikes_and_invisible_characters(admin_client, make_user):
    make_user("v@example.com")
    form = {
        "usable_password": "true",
        "password1": "a long enough passphrase 42",
        "password2": "a long enough passphrase 42",
    }
    look_alike = admin_client.post(
        "/admin/accounts/user/add/", {**form, "email": "v@\uff45xample.com"}
    )
    assert look_alike.status_code == 200
    assert "email" in look_alike.context["adminform"].form.errors
    invisible = admin_client.post(
        "/admin/accounts/user/add/", {**form, "email": "v@exam\u00adple.com"}
    )
    assert invisible.status_code == 200
    [error] = invisible.context["adminform"].form.errors["email"]
    assert "invisible characters" in error
    assert User.objects.filter(is_superuser=False).count() == 1


@pytest.fixture
def stored_before_the_canonical_form(transactional_db):
    """Rows as earlier versions stored them, written around the model (``update``),
    with the accounts app migrated back to before the canonical form; migrated
    forward again at the end."""
    executor = MigrationExecutor(connection)
    [latest] = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "accounts"]
    call_command("migrate", "accounts", "0001", verbosity=0)
    rows = {
        "plain": "v@example.com",
        "fullwidth": "v@\uff45xample.com",  # the same mailbox as "plain"
        "cafe": "bob@caf\u00e9.example",  # alone: takes its canonical form
        "invisible": "w@exam\u00adple.com",  # has none
        "nfc": "eve@caf\u00e9.example",  # NFC and NFD of one address: a collision
        "nfd": "eve@cafe\u0301.example",
    }
    users = {}
    for name, email in rows.items():
        users[name] = User.objects.create_user(f"{name}@example.org", PASSWORD)
        User.objects.filter(pk=users[name].pk).update(email=email)
    yield users, rows, latest


def test_the_migration_canonicalizes_and_reports_collisions(
    stored_before_the_canonical_form, caplog
):
    users, rows, latest = stored_before_the_canonical_form
    with caplog.at_level(logging.WARNING, logger="accounts.emails"):
        call_command("migrate", "accounts", latest[1], verbosity=0)
    stored = {name: User.objects.get(pk=user.pk).email for name, user in users.items()}
    assert stored == {**rows, "cafe": "bob@xn--caf-dma.example"}  # the rest left as they were
    messages = [r.getMessage() for r in caplog.records if r.name == "accounts.emails"]
    assert len(messages) == 3, messages
    assert any(str(users["plain"].pk) in m and str(users["fullwidth"].pk) in m for m in messages)
    assert any(str(users["nfc"].pk) in m and str(users["nfd"].pk) in m for m in messages)
    assert any(str(users["invisible"].pk) in m and "no canonical form" in m for m in messages)
    assert not any("@" in m for m in messages)  # ids, not addresses, in the log


def test_the_command_lists_what_needs_an_operator(stored_before_the_canonical_form, capsys):
    users, rows, latest = stored_before_the_canonical_form
    call_command("migrate", "accounts", latest[1], verbosity=0)
    with pytest.raises(CommandError):
        call_command("canonical_emails")
    out = capsys.readouterr().out
    assert f"collision on {canonical_email(rows['plain'])!r}:" in out
    assert f"collision on {canonical_email(rows['nfc'])!r}:" in out
    for name in ("plain", "fullwidth", "nfc", "nfd"):
        assert f"  {users[name].pk} {rows[name]!r}" in out
    assert f"no canonical form: {users['invisible'].pk} {rows['invisible']!r}" in out
    assert "0 can change, 2 collisions, 1 without a canonical form." in out
    # The operator settles them (here: the look-alike account goes, the invisible one is
    # renamed, one of the pair takes another address); then nothing is left.
    User.objects.filter(pk=users["fullwidth"].pk).delete()
    User.objects.filter(pk=users["invisible"].pk).update(email="w@example.com")
    User.objects.filter(pk=users["nfd"].pk).update(email="eve+2@cafe\u0301.example")
    call_command("canonical_emails", "--apply")
    assert User.objects.get(pk=users["nfd"].pk).email == "eve+2@xn--caf-dma.example"
    assert User.objects.get(pk=users["nfc"].pk).email == "eve@xn--caf-dma.example"


def test_a_body_sized_address_is_refused_without_the_mapping(api):
    huge = "v@" + "\uff45" * 500_000 + ".com"
    assert register(api, huge).json() == {"email": ["Enter a valid email address."]}
    assert login(api, huge).status_code == 400
    # The rate limiter's key: longer than any stored address, so it matches none.
    assert len(User.normalize_username(huge)) > 254
