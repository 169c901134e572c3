# A label only ("IP address", not Django's "Ip address"): no SQL on any database.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0008_device_names_from_the_vocabulary"),
    ]

    operations = [
        migrations.AlterField(
            model_name="refreshtoken",
            name="ip_address",
            field=models.GenericIPAddressField(blank=True, null=True, verbose_name="IP address"),
        ),
    ]
