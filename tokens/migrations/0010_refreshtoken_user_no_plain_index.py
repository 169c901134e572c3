"""RefreshToken.user loses the plain index Django gives a foreign key.

tokens_user_created_idx (user_id, created_at DESC) leads with the same column and
serves every lookup by user; the plain one only cost each refresh and login one more
index entry (bench/indexes.py; docs/performance.md, "Indexes").

The index alone is dropped: Django's AlterField would also drop and re-add the foreign
key, and re-adding it validates every row while refreshes wait for the lock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The name Django gave it (a hash of the table and column, whatever the user model).
PLAIN_INDEX = "tokens_refreshtoken_user_id_defe27d0"


def drop_plain_user_index(apps, schema_editor):
    model = apps.get_model("tokens", "RefreshToken")
    table = model._meta.db_table
    column = model._meta.get_field("user").column
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        plain = not (info["unique"] or info["primary_key"] or info["foreign_key"])
        if info["index"] and plain and info["columns"] == [column]:
            schema_editor.remove_index(model, models.Index(fields=["user"], name=name))


def create_plain_user_index(apps, schema_editor):
    model = apps.get_model("tokens", "RefreshToken")
    schema_editor.add_index(model, models.Index(fields=["user"], name=PLAIN_INDEX))


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0009_ip_address_label"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="refreshtoken",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="refresh_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_plain_user_index, create_plain_user_index),
            ],
        ),
    ]
