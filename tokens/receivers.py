"""End a user's sessions when their password is saved, by whatever path.

The API's change-password, the admin's password form, ``manage.py changepassword``
and ``set_password()`` + ``save()`` in a shell all end in the user model's ``save()``.
Listening there keeps the invariant in one place instead of in every caller (as
Django's own sessions do with ``get_session_auth_hash()``). A password written
around ``save()`` (``QuerySet.update()``, raw SQL) sends no signal; the binding
check on every use still ends those sessions (``tokens.services`` at refresh,
``tokens.authentication`` on every request), but no email tells the user of such a
change (``tokens.notifications``).
"""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save

from tokens import notifications, passwords


def end_sessions_of_old_password(sender, instance, created, update_fields, raw, **kwargs) -> None:
    if created or raw:
        return  # a new user has no sessions; fixtures load data as it is
    if update_fields is not None and "password" not in update_fields:
        return  # last_login after a login, and other partial saves
    # Inside the save's own transaction (if any): the password and the revocation
    # commit together or not at all.
    with transaction.atomic():
        passwords.password_changed(instance)
        # set_password() keeps the raw password in ``_password`` until the save is done
        # (AbstractBaseUser.save() clears it after this signal): so a save without a
        # set_password() (an edit of the email, the admin's change form), or Django's
        # own hash upgrade at login (which clears it first), is no password change.
        if getattr(instance, "_password", None) is not None:
            notifications.notify(notifications.PASSWORD_CHANGED, instance.pk)


def connect() -> None:
    """Listen to the user model's saves (called once, from AppConfig.ready)."""
    post_save.connect(
        end_sessions_of_old_password,
        sender=settings.AUTH_USER_MODEL,
        dispatch_uid="tokens.receivers.end_sessions_of_old_password",
    )
