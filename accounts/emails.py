"""The one spelling of an email address: what is stored, looked up and rate-limited.

Look-alike spellings of one mailbox must be one account: mail software delivers
``v@\uff45xample.com`` (a fullwidth "e"), ``v@EXAMPLE.com`` in fullwidth capitals and
``bob@café.example`` (precomposed or with a combining accent) to the same place as
their plain spellings. The canonical form is:

- NFKC, as Django normalizes login names (fullwidth and compatibility forms fold);
- the domain mapped to ASCII by IDNA's UTS #46 processing (the ``idna`` package, the
  mapping browsers and mail software apply): ``café.example`` is
  ``xn--caf-dma.example``, and an invalid domain has no canonical form;
- lower-cased, the local part too (addresses are case-insensitive here).

An address with an invisible character (Unicode's Default_Ignorable_Code_Point: soft
hyphen, zero-width space and joiners, variation selectors...) has no canonical form
either: it looks like another address, so registration refuses it rather than
guessing which one was meant (UTS #46 would drop some of them from a domain and keep
others). The ``regex`` package knows the property; Python's ``unicodedata`` does not.
"""

import unicodedata
from dataclasses import dataclass

import idna
import regex
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

INVISIBLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
# No address is longer than 254 characters (RFC 5321's path limit, the column's length);
# NFKC can shorten a text (composing accents), so only far longer texts are cut short
# here, before any Unicode work on a body-sized string a client sent.
LONGEST_INPUT = 4 * 254


class InvalidEmail(ValueError):
    """The address has no canonical form; ``message`` says so to whoever typed it."""

    message = "Enter a valid email address."


class InvisibleCharacters(InvalidEmail):
    message = (
        "Enter the address without invisible characters "
        "(such as a soft hyphen or a zero-width space)."
    )


class InvalidDomain(InvalidEmail):
    pass


def canonical_email(address: str) -> str:
    """The canonical form of ``address``; InvalidEmail when it has none (invisible
    characters, a domain IDNA refuses). Checks no other syntax (Django's
    EmailValidator does)."""
    if len(address) > LONGEST_INPUT:
        raise InvalidEmail(address[:LONGEST_INPUT])
    text = unicodedata.normalize("NFKC", address).strip()
    if INVISIBLE.search(address) or INVISIBLE.search(text):
        raise InvisibleCharacters(address)
    local, at, domain = text.rpartition("@")
    if not at or domain.startswith("["):  # not an address, or an address literal
        return text.lower()
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise InvalidDomain(address) from None
    return f"{local}@{domain}".lower()


def normalize_email(address: str) -> str:
    """The spelling to look ``address`` up by: its canonical form, or when it has none
    the address NFKC-normalized and lower-cased (as it is when longer than any address),
    which no stored address has (so a login finds no account)."""
    try:
        return canonical_email(address or "")
    except InvalidEmail:
        if len(address) > LONGEST_INPUT:
            return address
        return unicodedata.normalize("NFKC", address).strip().lower()


def validate_canonical_email(value: str) -> None:
    """Refuse an address that has no canonical form (invisible characters, a domain
    that IDNA refuses): forms, the admin and createsuperuser say so under the field."""
    try:
        canonical_email(value)
    except InvalidEmail as exc:
        raise ValidationError(exc.message, code="invalid") from None


@dataclass(frozen=True)
class StoredEmails:
    """What ``canonicalize_stored`` did and left: (user id, stored address) pairs."""

    changed: list[tuple[object, str]]
    # Addresses that would become one that another user has or would get, by
    # canonical form: each is left as it is for an operator to decide.
    collisions: dict[str, list[tuple[object, str]]]
    # Addresses with no canonical form, left as they are.
    invalid: list[tuple[object, str]]


def canonicalize_stored(users, *, apply: bool) -> StoredEmails:
    """Store the canonical form of every user's address in ``users`` (a queryset of
    the user model, historical in a migration) that can take it; report, never merge,
    the rest. With ``apply=False`` nothing is written.

    One pass reads (id, email); only the addresses that change are looked at again,
    each with one indexed lookup of the address it would get.
    """
    invalid, wanted = [], {}
    for pk, email in users.order_by().values_list("pk", "email").iterator():
        try:
            canonical = canonical_email(email)
        except InvalidEmail:
            invalid.append((pk, email))
            continue
        if canonical != email:
            wanted.setdefault(canonical, []).append((pk, email))
    changed, collisions = [], {}
    for canonical, rows in wanted.items():
        # LOWER(email): the expression of the unique index, which serves the lookup.
        holders = list(
            users.annotate(lower_email=Lower("email"))
            .filter(lower_email=canonical)
            .exclude(pk__in=[pk for pk, _ in rows])
            .values_list("pk", "email")
        )
        if len(rows) > 1 or holders:
            collisions[canonical] = holders + rows
            continue
        [(pk, email)] = rows
        if apply:
            try:
                with transaction.atomic(using=users.db):
                    users.filter(pk=pk, email=email).update(email=canonical)
            except IntegrityError:  # someone registered the address meanwhile
                collisions[canonical] = [(pk, email)]
                continue
        changed.append((pk, email))
    return StoredEmails(changed=changed, collisions=collisions, invalid=invalid)
