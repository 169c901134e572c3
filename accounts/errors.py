"""The error codes of the project's account endpoints (register, change-password).

They answer like the tokens app's own errors (``tokens.errors.AuthError``: a DRF
exception whose detail is its code), but belong to this project, not to the app.
"""

from tokens.errors import AuthError

REGISTER_USER_ALREADY_EXISTS = "REGISTER_USER_ALREADY_EXISTS"
CHANGE_PASSWORD_INVALID_CURRENT = "CHANGE_PASSWORD_INVALID_CURRENT"


class UserAlreadyExists(AuthError):
    code = REGISTER_USER_ALREADY_EXISTS


class InvalidCurrentPassword(AuthError):
    code = CHANGE_PASSWORD_INVALID_CURRENT
