"""Who is signed in, and how to sign someone in: Flask-Login, or hooks you provide.

otpgate never signs a user in before the second factor: the app's password view calls
``gate.begin_login(user)``, and only once a second factor passes does otpgate call
:meth:`UserHooks.log_in` (with Flask-Login: ``login_user``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from flask import current_app
from flask import globals as flask_globals

from otpgate.core.accounts import account_label
from otpgate.core.errors import ConfigurationError


@runtime_checkable
class UserHooks(Protocol):
    """How otpgate talks to the app's sign-in. Subjects are the app's user ids, as text."""

    def current_subject(self) -> str | None:
        """The fully signed-in user's subject, or None."""

    def log_in(self, subject: str, remember: bool) -> None:
        """Sign ``subject`` in (called only after the second factor passed)."""

    def log_out(self) -> None:
        """Sign the current user out."""


@dataclass(frozen=True)
class CallbackUsers:
    """:class:`UserHooks` from three functions, for apps without Flask-Login::

    OtpGate(app, users=CallbackUsers(
        current_subject=lambda: session.get("user_id"),
        log_in=lambda subject, remember: session.update(user_id=subject),
        log_out=lambda: session.pop("user_id", None),
    ))
    """

    current_subject: Callable[[], str | None]
    log_in: Callable[[str, bool], object]
    log_out: Callable[[], object]


class FlaskLoginUsers:
    """:class:`UserHooks` over Flask-Login. ``load_user`` defaults to the login manager's
    ``user_loader`` callback."""

    def __init__(self, load_user: Callable[[str], Any] | None = None) -> None:
        self._load_user = load_user

    def current_subject(self) -> str | None:
        # the user object itself, once: each attribute read through ``current_user`` (a
        # proxy) would look the request context up again (this runs on every page)
        user = _signed_in_user()
        if user and user.is_authenticated:
            return str(user.get_id())
        return None

    def log_in(self, subject: str, remember: bool) -> None:
        login_user = _flask_login().login_user

        loader = self._load_user or getattr(
            getattr(current_app, "login_manager", None), "_user_callback", None
        )
        user = loader(subject) if loader else None
        if user is None:
            raise ConfigurationError("users", f"the user loader found no user {subject!r}")
        login_user(user, remember=remember)

    def log_out(self) -> None:
        logout_user = _flask_login().logout_user

        logout_user()


_FLASK_LOGIN: list[Any] = []
#: The context variables behind Flask's ``g`` and ``request`` (Flask 3.0, 3.1).
_APP_CONTEXT = getattr(flask_globals, "_cv_app", None)
_REQUEST_CONTEXT = getattr(flask_globals, "_cv_request", None)


def _signed_in_user() -> Any:
    """Flask-Login's current user, found as its ``current_user`` finds it
    (``flask_login.utils._get_user``): in a request, ``g._login_user``, which the login
    manager's ``_load_user`` sets first if this request has not loaded the user yet
    (``login_user`` and ``logout_user`` set it anew); outside a request, None. Read from
    Flask's contexts themselves, without the ``current_user``, ``g`` and ``current_app``
    proxy lookups (this runs on every page); anything not where Flask-Login 0.6 keeps it
    goes through ``current_user`` as before."""
    if _APP_CONTEXT is None or _REQUEST_CONTEXT is None:
        return _flask_login().current_user._get_current_object()
    context = _APP_CONTEXT.get(None)
    if context is None or _REQUEST_CONTEXT.get(None) is None:
        return None  # no request: nobody is signed in (as ``current_user``)
    found = vars(context.g)
    if "_login_user" not in found:
        load = getattr(getattr(context.app, "login_manager", None), "_load_user", None)
        if load is not None:
            load()
        if "_login_user" not in found:
            return _flask_login().current_user._get_current_object()
    return found["_login_user"]


def _flask_login() -> Any:
    """Flask-Login, imported only when used (it is optional and untyped), then kept."""
    if not _FLASK_LOGIN:
        _FLASK_LOGIN.append(importlib.import_module("flask_login"))
    return _FLASK_LOGIN[0]


def default_account_label(subject: str) -> str:
    """The account name an authenticator app shows for ``subject`` (``account_label``'s
    default): the signed-in Flask-Login user's ``email``, ``username`` or ``name``, else the
    subject itself."""
    try:  # Flask-Login is optional; without its login manager it has no current user
        user = _flask_login().current_user._get_current_object()
    except (ImportError, AttributeError, RuntimeError):
        return subject
    if user is None or not getattr(user, "is_authenticated", False):
        return subject
    get_id = getattr(user, "get_id", None)
    if not callable(get_id) or str(get_id()) != subject:
        return subject
    return account_label(user, subject)


class NoUserToSignIn(ValueError):
    """``begin_login`` (or ``remember_device``) was given no user: ``None`` (a password check
    that failed) or a user without an id. A programming error of the site, not of its user."""


def subject_of(user: object) -> str:
    """A user object's subject: ``user.get_id()`` (Flask-Login's convention), or ``str(user)``;
    :class:`NoUserToSignIn` for ``None`` or a user without an id."""
    get_id = getattr(user, "get_id", None)
    subject = get_id() if callable(get_id) else user
    if subject is None or subject == "":
        raise NoUserToSignIn(
            "begin_login() needs the user whose password just checked out, and got "
            f"{'None' if user is None else 'a user without an id'}: call it only once the "
            "password is right, and answer a wrong one yourself (the sign-in form again, "
            "with its error)."
        )
    return str(subject)


#: Flask-Login's hooks hold no state: one instance serves every app.
_FLASK_LOGIN_USERS = FlaskLoginUsers()


def resolve_users(given: UserHooks | None) -> UserHooks:
    """The hooks to use now: those given to ``init_app``, else Flask-Login's."""
    if given is not None:
        return given
    if getattr(current_app, "login_manager", None) is not None:
        return _FLASK_LOGIN_USERS
    raise ConfigurationError(
        "users",
        "install and set up Flask-Login, or pass users=CallbackUsers(...) to OtpGate/init_app",
    )
