import django.utils.timezone
from django.db import migrations, models


def from_created_at(apps, schema_editor):
    """Existing sessions last proved the password at their login."""
    RefreshToken = apps.get_model("tokens", "RefreshToken")
    RefreshToken.objects.update(authenticated_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("tokens", "0004_session_device")]

    operations = [
        migrations.AddField(
            model_name="refreshtoken",
            name="authenticated_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="last password proof"
            ),
        ),
        migrations.RunPython(from_created_at, migrations.RunPython.noop, elidable=True),
    ]
