import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0006_notificationpreference"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationpreference",
            name="changed_at",
            # Existing choices count from the upgrade: they apply to every later sign-in.
            field=models.DateTimeField(
                auto_now=True, default=django.utils.timezone.now, verbose_name="changed"
            ),
            preserve_default=False,
        ),
    ]
