"""``manage.py generate_signing_key --algorithm ES256|EdDSA``: a new access-token key."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokens import signing


class Command(BaseCommand):
    help = (
        "Print a new private key for signing access tokens (PKCS#8 PEM) on stdout, and its "
        "kid on stderr. Store it with the other secrets; use it as ACCESS_TOKEN_SIGNING_KEY_FILE "
        "or, to publish it before it signs, in ACCESS_TOKEN_VERIFYING_KEY_FILES."
    )
    # Needs no database and no valid key configuration: it is how one gets a key.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--algorithm", choices=signing.ASYMMETRIC, default=signing.ES256)

    def handle(self, *args, algorithm: str, **options) -> None:
        try:
            pem = signing.generate_private_key(algorithm)
        except ImproperlyConfigured as exc:  # the "keys" extra is not installed
            raise CommandError(str(exc)) from None
        key = signing.private_key(pem, algorithm, name="the new key")
        # stdout is the key alone, so "> next.pem" captures nothing else.
        self.stdout.write(pem, ending="")
        self.stderr.write(f"kid: {key.kid}")
