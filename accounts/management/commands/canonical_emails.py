"""``manage.py canonical_emails [--apply]``: the stored addresses that are not in their
canonical form (accounts.emails), a thin door to ``canonicalize_stored``."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.emails import canonicalize_stored
from accounts.models import User


class Command(BaseCommand):
    help = (
        "List the users whose stored email address is not in its canonical form: those "
        "that can take it, those that would share one address with another user "
        "(collisions) and those whose address has none. With --apply, store the canonical "
        "form where it collides with nobody. Collisions are never merged: an operator "
        "decides. Exits with status 1 while any collision or address without a "
        "canonical form remains."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--apply",
            action="store_true",
            help="Store the canonical forms that collide with nobody.",
        )

    def handle(self, *args, apply: bool, **options) -> None:
        stored = canonicalize_stored(User._default_manager.all(), apply=apply)
        verb = "changed" if apply else "can change"
        for pk, email in stored.changed:
            self.stdout.write(f"{verb}: {pk} {email!r}")
        for canonical, users in stored.collisions.items():
            self.stdout.write(f"collision on {canonical!r}:")
            for pk, email in users:
                self.stdout.write(f"  {pk} {email!r}")
        for pk, email in stored.invalid:
            self.stdout.write(f"no canonical form: {pk} {email!r}")
        self.stdout.write(
            f"{len(stored.changed)} {verb}, {len(stored.collisions)} collisions, "
            f"{len(stored.invalid)} without a canonical form."
        )
        if stored.collisions or stored.invalid:
            raise CommandError("Some addresses need an operator's decision (see above).")
