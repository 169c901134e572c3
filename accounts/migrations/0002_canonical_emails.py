import logging

from django.db import migrations, models

import accounts.emails

logger = logging.getLogger("accounts.emails")


def canonicalize(apps, schema_editor):
    """Store every address in its canonical form (accounts.emails), except where two
    accounts would get one address, or an address has none: those are left as they
    are and reported (ids only; `manage.py canonical_emails` lists them), never merged.
    """
    User = apps.get_model("accounts", "User")
    users = User.objects.using(schema_editor.connection.alias)
    stored = accounts.emails.canonicalize_stored(users, apply=True)
    for canonical_users in stored.collisions.values():
        logger.warning(
            "accounts: users %s would share one canonical address; left unchanged "
            "(manage.py canonical_emails lists them)",
            ", ".join(str(pk) for pk, _ in canonical_users),
        )
    if stored.invalid:
        logger.warning(
            "accounts: users %s have an address with no canonical form; left unchanged "
            "(manage.py canonical_emails lists them)",
            ", ".join(str(pk) for pk, _ in stored.invalid),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(canonicalize, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="email",
            field=models.EmailField(
                max_length=254,
                unique=True,
                validators=[accounts.emails.validate_canonical_email],
                verbose_name="email address",
            ),
        ),
    ]
