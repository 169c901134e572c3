"""``manage.py revoke_sessions --user EMAIL | --all``: incident response, a door to the service."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import normalize_email
from tokens import services
from tokens.models import RevokeReason


class Command(BaseCommand):
    help = (
        "Revoke sessions (refresh and access tokens die at once), with reason 'admin'. "
        "Prints how many sessions were revoked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--user", metavar="EMAIL", help="Every live session of this user.")
        which.add_argument(
            "--all", dest="everyone", action="store_true", help="Every live session of everyone."
        )

    def handle(self, *args, user: str | None, everyone: bool, **options) -> None:
        if everyone:
            count = services.revoke_every_session(reason=RevokeReason.ADMIN)
            self.stdout.write(f"Revoked {count} sessions of all users.")
            return
        account = get_user_model().objects.filter(email=normalize_email(user)).first()
        if account is None:
            raise CommandError(f"No user with the email address {user!r}.")
        count = services.revoke_all(account, reason=RevokeReason.ADMIN)
        self.stdout.write(f"Revoked {count} sessions of {account.email}.")
