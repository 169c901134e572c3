from django.apps import AppConfig


class TokensConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tokens"
    verbose_name = "sessions and tokens"

    def ready(self) -> None:
        from tokens import audit, checks, receivers  # noqa: F401  (checks registers them)

        audit.connect()
        receivers.connect()
