from django.apps import AppConfig


class TokensConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tokens"
    verbose_name = "sessions and tokens"

    def ready(self) -> None:
        from tokens import audit, checks, receivers  # noqa: F401  (checks registers them)
        from tokens.settings import user_settings

        user_settings()  # a key of TOKENS the app does not have stops start-up here

        audit.connect()
        receivers.connect()
