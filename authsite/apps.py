from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with the project's site (a rate-limited login form)."""

    default_site = "authsite.admin.AdminSite"
