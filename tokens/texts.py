"""Texts people read: the sentence that counts revoked sessions, the one the API's
logout-all, the admin and ``revoke_sessions`` share; the API's other messages are spelled
in tokens/views.py. (Not ``messages``: that is ``django.contrib.messages``, which the
admin uses beside it.)"""

from django.utils.translation import ngettext


def revoked(count: int, whose: str | None = None) -> str:
    """ "Revoked 1 session." / "Revoked 3 sessions of alice@example.com." """
    if whose is None:
        text = ngettext("Revoked %(count)d session.", "Revoked %(count)d sessions.", count)
    else:
        text = ngettext(
            "Revoked %(count)d session of %(whose)s.",
            "Revoked %(count)d sessions of %(whose)s.",
            count,
        )
    return text % {"count": count, "whose": whose}
