from django.apps import AppConfig


class TokensConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tokens"
    verbose_name = "sessions and tokens"

    def ready(self) -> None:
        from tokens import checks  # noqa: F401  (registers the system checks)
