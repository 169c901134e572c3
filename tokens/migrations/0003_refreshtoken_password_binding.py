"""Bind every session to its user's password (tokens.crypto.password_binding).

Sessions that exist when this runs are bound to the password their user has now, so
nobody is logged out by the upgrade; from here on a password change ends them.
"""

from django.conf import settings
from django.db import migrations, models

from tokens import crypto


def bind_existing_sessions(apps, schema_editor):
    RefreshToken = apps.get_model("tokens", "RefreshToken")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    using = schema_editor.connection.alias
    users = User.objects.using(using).filter(
        pk__in=RefreshToken.objects.using(using).filter(password_binding="").values("user")
    )
    # One UPDATE per user, users streamed: memory stays flat however many there are.
    for user_id, password in users.values_list("pk", "password").iterator(chunk_size=2000):
        RefreshToken.objects.using(using).filter(user_id=user_id, password_binding="").update(
            password_binding=crypto.password_binding(password)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0002_indexes_for_admin_purge_and_cap"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="refreshtoken",
            name="password_binding",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(bind_existing_sessions, migrations.RunPython.noop, elidable=True),
    ]
