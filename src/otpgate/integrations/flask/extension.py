"""``OtpGate``: the Flask extension. Per-app state lives in ``app.extensions["otpgate"]``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask import Flask, current_app, redirect, request, url_for
from werkzeug.wrappers import Response

from otpgate.core import factor_memory, wiring
from otpgate.core.credentials import Credentials
from otpgate.core.errors import ConfigurationError, CsrfFailed, OtpgateError
from otpgate.core.framing import framing_headers
from otpgate.core.i18n import SHIPPED, add_locale_dir
from otpgate.core.mailers import EmailSender
from otpgate.core.memory_store import MemoryStore
from otpgate.core.senders import Sender
from otpgate.core.settings import Settings
from otpgate.core.simswap import SimSwapCheck
from otpgate.core.store import Store
from otpgate.core.verifier import Verifier
from otpgate.core.web import SecondFactorState, safe_next

from . import devices, signals
from .known_factors import remember as remember_factors
from .known_factors import watch_changes
from .session_guard import _guard_of
from .storage import _default_credentials, _store
from .users import UserHooks, default_account_label, resolve_users, subject_of
from .web import has_factor, save_state, wants_json

logger = logging.getLogger("otpgate")

#: The integration's own config keys (the rest of ``OTPGATE_*`` goes to ``Settings``; the
#: store, sender and database keys of every integration are read by ``otpgate.core.wiring``).
CONFIG_DEFAULTS: dict[str, Any] = {
    "OTPGATE_URL_PREFIX": "/otp",
    "OTPGATE_BLUEPRINT_NAME": "otpgate",
    #: Send password-only sessions of users who have a factor to the second step.
    "OTPGATE_ENFORCE": True,
    #: Seconds the guard trusts a session's remembered "no factor enrolled" (0: never).
    "OTPGATE_FACTOR_RECHECK": 60,
    #: Endpoint of the app's password login page (default: Flask-Login's ``login_view``).
    "OTPGATE_LOGIN_VIEW": None,
    #: Where to go after a sign-in with no ``next``.
    "OTPGATE_HOME_URL": "/",
    "OTPGATE_BASE_TEMPLATE": "otpgate/base.html",
    #: Languages the pages may use (Accept-Language picks among them); default: all shipped.
    "OTPGATE_LANGUAGES": SHIPPED,
    #: Directories of the site's own ``<lang>/LC_MESSAGES/otpgate.mo`` catalogues (new
    #: languages, or other wording), searched before otpgate's.
    "OTPGATE_TRANSLATION_DIRS": (),
}


@dataclass
class GateState:
    """One app's otpgate: its settings, verifier and hooks."""

    settings: Settings
    verifier: Verifier
    users_hooks: UserHooks | None
    blueprint: str
    enforce: bool
    login_view: str | None
    home_url: str
    base_template: str
    languages: tuple[str, ...]
    locale_selector: Callable[[], str | None] | None
    account_label: Callable[[str], str] | None
    #: ``OTPGATE_FACTOR_RECHECK``: see :mod:`otpgate.integrations.flask.known_factors`.
    factor_recheck: float = 60.0
    #: When each subject's factors last changed through the verifier, in this process.
    factor_changes: factor_memory.FactorChanges = field(default_factory=factor_memory.FactorChanges)

    #: The hooks found at the first request (Flask-Login may be set up after otpgate).
    _resolved: UserHooks | None = field(default=None, repr=False)

    @property
    def users(self) -> UserHooks:
        if self._resolved is None:
            self._resolved = resolve_users(self.users_hooks)
        return self._resolved

    def endpoint(self, name: str) -> str:
        return f"{self.blueprint}.{name}"

    @cached_property
    def framing_headers(self) -> dict[str, str]:
        """The framing headers of a response that has none yet (``OTPGATE_FRAME_ANCESTORS``)."""
        return framing_headers(self.settings)


def gate_state(app: Flask | None = None) -> GateState:
    """The otpgate state of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    found = target.extensions.get("otpgate")
    if not isinstance(found, GateState):
        raise RuntimeError("otpgate is not set up on this app: call OtpGate(app) or init_app")
    return found


class OtpGate:
    """The extension. Holds only defaults for ``init_app``; each app keeps its own state.

    Keyword arguments (to the constructor as defaults, or to ``init_app``): ``store``
    (default: ``OTPGATE_STORE``, ``"memory"`` or a Redis URL, with ``OTPGATE_STORE_OPTIONS``),
    ``sender`` (default: ``OTPGATE_SENDER``, the console), ``credentials`` (default:
    SQLAlchemy tables at ``OTPGATE_DATABASE_URL``, SQLite in the instance folder when unset),
    ``users`` (default: Flask-Login), ``clock``, ``locale_selector``, ``account_label`` (a
    function of the subject naming the account in authenticator apps; default: the signed-in
    user's ``email``, ``username`` or ``name``, else the subject),
    ``sim_swap`` (else ``OTPGATE_SIM_SWAP``), ``email_sender`` (default:
    ``OTPGATE_EMAIL_SENDER``; none: no email codes).
    The in-memory store logs a WARNING at ``init_app`` unless the app is in debug or
    testing mode: it serves one process only.
    """

    def __init__(self, app: Flask | None = None, **defaults: Any) -> None:
        self._defaults = defaults
        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        store: Store | None = None,
        sender: Sender | None = None,
        credentials: Credentials | None = None,
        users: UserHooks | None = None,
        clock: Callable[[], float] | None = None,
        locale_selector: Callable[[], str | None] | None = None,
        account_label: Callable[[str], str] | None = None,
        sim_swap: SimSwapCheck | None = None,
        email_sender: EmailSender | None = None,
    ) -> GateState:
        """Set otpgate up on ``app``: settings from ``OTPGATE_*``, the blueprint, the guard,
        signals and the ``flask otpgate`` commands. Raises ConfigurationError early."""
        given = {
            "store": store,
            "sender": sender,
            "credentials": credentials,
            "users": users,
            "clock": clock,
            "locale_selector": locale_selector,
            "account_label": account_label,
            "sim_swap": sim_swap,
            "email_sender": email_sender,
        }
        options = {**self._defaults, **{k: v for k, v in given.items() if v is not None}}
        for key, value in CONFIG_DEFAULTS.items():
            app.config.setdefault(key, value)
        settings = Settings.from_mapping(app.config, ignore={*CONFIG_DEFAULTS, *wiring.KEYS})
        parts = wiring.read(app.config, stacklevel=2)
        clock = options.get("clock") or time.time
        store = options.get("store") or _store(parts, clock)
        if isinstance(store, MemoryStore) and not (app.debug or app.testing):
            logger.warning(
                "otpgate: the in-memory store keeps challenges, send budgets and lockouts in "
                "this process only; with several workers or hosts set OTPGATE_STORE to a "
                "redis:// URL (app %s)",
                app.name,
            )
        verifier = Verifier(
            settings,
            store=store,
            sender=options.get("sender") or wiring.build_sender(parts.sender),
            credentials=options.get("credentials") or _default_credentials(app, parts),
            clock=clock,
            sim_swap=options.get("sim_swap") or wiring.build_sim_swap(parts.sim_swap),
            email_sender=options.get("email_sender")
            or wiring.build_email_sender(parts.email_sender, parts.smtp),
        )
        name = str(app.config["OTPGATE_BLUEPRINT_NAME"])
        state = GateState(
            settings=settings,
            verifier=verifier,
            users_hooks=options.get("users"),
            blueprint=name,
            enforce=bool(app.config["OTPGATE_ENFORCE"]),
            login_view=app.config["OTPGATE_LOGIN_VIEW"],
            home_url=str(app.config["OTPGATE_HOME_URL"]),
            base_template=str(app.config["OTPGATE_BASE_TEMPLATE"]),
            languages=_languages(app),
            locale_selector=options.get("locale_selector"),
            account_label=options.get("account_label") or default_account_label,
            factor_recheck=_seconds(app.config["OTPGATE_FACTOR_RECHECK"]),
        )
        app.extensions["otpgate"] = state
        signals.connect(app, verifier)
        watch_changes(state)

        from werkzeug.exceptions import MethodNotAllowed as WrongMethod

        from .blueprint import answer_error, make_blueprint
        from .cli import otpgate_cli
        from .methods import answer_wrong_method
        from .web import csrf_token

        app.register_blueprint(make_blueprint(name), url_prefix=app.config["OTPGATE_URL_PREFIX"])
        # check_csrf() in the app's own views: a 403 problem (JSON) or error page, never a 500
        app.register_error_handler(CsrfFailed, answer_error)
        # A method an otpgate URL does not take: otpgate's translated 405 (routing fails
        # before the blueprint is known, so a blueprint handler would never run).
        app.register_error_handler(WrongMethod, answer_wrong_method)
        app.before_request(_guard_of(state))
        app.jinja_env.globals.setdefault("otpgate_csrf_token", csrf_token)
        app.cli.add_command(otpgate_cli)
        return state

    # -- for the app's views ---------------------------------------------------------------

    @property
    def verifier(self) -> Verifier:
        """The current app's :class:`~otpgate.Verifier`."""
        return gate_state().verifier

    def begin_login(
        self, user: object, *, remember: bool = False, next_url: str | None = None
    ) -> Response:
        """Call after the password checked out, instead of ``login_user``.

        Users without a second factor are signed in at once, and so are users on a device
        they asked to remember (``OTPGATE_REMEMBER_DEVICE``: the ``otpgate_device`` cookie);
        the others go to the second step and are signed in only when it passes (within
        ``login_step_timeout``).
        Returns the redirect (HTML) or a JSON answer (API clients). ``user`` must be the user
        whose password just checked out: ``None`` raises
        :class:`~otpgate.integrations.flask.NoUserToSignIn` (a wrong password is the site's to
        answer, with its sign-in form).
        """
        gate = gate_state()
        subject = subject_of(user)
        target = safe_next(next_url, request.host, fallback=gate.home_url)
        checked_at = gate.verifier.clock()
        try:
            enrolled = has_factor(subject)
        except OtpgateError as error:  # storage down: fail closed, with a 503
            from .blueprint import answer_error

            return answer_error(error)
        if not enrolled:
            gate.users.log_in(subject, remember)
            remember_factors(gate, subject, False, checked_at=checked_at)
            return _go(target, {"status": "signed_in", "next": target})
        if devices.sign_in_remembered(subject, bool(remember)):
            return _go(target, {"status": "signed_in", "next": target, "remembered_device": True})
        pending = SecondFactorState()
        pending.begin(subject, gate.verifier.clock(), target, remember=bool(remember))
        save_state(pending)
        verify = url_for(gate.endpoint("verify"))
        return _go(verify, {"status": "second_factor_required", "next": verify}, status=202)

    def forget_devices(self, user: object) -> int:
        """Void every remembered device of ``user`` (a user object or its id): call it when
        the user's password changes or they sign out everywhere. Returns how many."""
        return devices.forget(user)

    def logout(self) -> None:
        """Sign out and forget this session's second factor."""
        gate_state().users.log_out()
        save_state(SecondFactorState())


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ConfigurationError("OTPGATE_FACTOR_RECHECK", "must be a number of seconds >= 0")
    return float(value)


def _go(url: str, data: dict[str, Any], status: int = 200) -> Response:
    if wants_json():
        from .web import json_ok

        return json_ok(data, status)
    return redirect(url, code=303)


def _languages(app: Flask) -> tuple[str, ...]:
    """``OTPGATE_LANGUAGES``, after adding ``OTPGATE_TRANSLATION_DIRS`` to the catalogues."""
    for directory in app.config["OTPGATE_TRANSLATION_DIRS"]:
        add_locale_dir(directory)
    return tuple(app.config["OTPGATE_LANGUAGES"])
