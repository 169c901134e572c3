"""``manage.py revoke_sessions --user USERNAME | --all``: incident response, a thin door."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokens import maintenance, texts
from tokens.models import RevokeReason


class Command(BaseCommand):
    help = (
        "Revoke sessions (refresh and access tokens die at once), with reason 'admin'. "
        "Prints how many sessions were revoked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--user",
            metavar="USERNAME",
            help="Every live session of this user (their login name: the email address here).",
        )
        which.add_argument(
            "--all", dest="everyone", action="store_true", help="Every live session of everyone."
        )

    def handle(self, *args, user: str | None, everyone: bool, **options) -> None:
        if everyone:
            count = maintenance.revoke_every_session(reason=RevokeReason.ADMIN)
            self.stdout.write(texts.revoked(count, "all users"))
            return
        user_model = get_user_model()
        try:
            # The user model's own lookup, normalization included (as at login).
            account = user_model._default_manager.get_by_natural_key(user)
        except user_model.DoesNotExist:
            raise CommandError(f"No user with the login name {user!r}.") from None
        count = maintenance.revoke_users([account], reason=RevokeReason.ADMIN)
        self.stdout.write(texts.revoked(count, account.get_username()))
