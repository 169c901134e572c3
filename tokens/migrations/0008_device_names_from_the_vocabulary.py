from django.db import migrations

from tokens import devices


def rename_devices(apps, schema_editor):
    """Name every stored session's device again by tokens.devices' vocabulary, so that no
    name taken from free text in a user agent stays in the list, the admin or an email.
    One UPDATE per distinct (user agent, old name) whose name changes."""
    RefreshToken = apps.get_model("tokens", "RefreshToken")
    sessions = RefreshToken.objects.using(schema_editor.connection.alias)
    pairs = list(sessions.order_by().values_list("user_agent", "device").distinct())
    for user_agent, device in pairs:
        name = devices.describe(user_agent)
        if name != device:
            sessions.filter(user_agent=user_agent, device=device).update(device=name)


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0007_notificationpreference_changed_at"),
    ]

    operations = [
        migrations.RunPython(rename_devices, migrations.RunPython.noop),
    ]
