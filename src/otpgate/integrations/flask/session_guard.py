"""The ``before_request`` guard: a session signed in by password alone whose user has a
second factor is signed out and sent to the second step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import redirect, request, session, url_for
from werkzeug.wrappers import Response

from otpgate.core.errors import OtpgateError, OtpRequired
from otpgate.core.web import SecondFactorState

from . import devices
from .known_factors import has_factor_for_guard
from .web import json_error, render, request_context, save_state, wants_json

if TYPE_CHECKING:
    from flask.sessions import SessionMixin

    from .extension import GateState


def _guard_of(gate: GateState) -> Callable[[], Response | None]:
    """The guard of one app (its state bound once: the guard runs before every request).

    An ordinary page pays for this function alone: the request context is read once (no
    proxy per ``request`` or ``session``), and a session that passed, or that remembers its
    user has no factor, answers from the session."""
    own = gate.blueprint + "."

    def guard() -> Response | None:
        if not gate.enforce:
            return None
        context = request_context()
        endpoint = context.request.endpoint or ""
        if endpoint == "static" or endpoint.startswith(own) or endpoint == gate.login_view:
            return None
        return _guard(gate, context.session)

    return guard


def _guard(gate: GateState, current: SessionMixin) -> Response | None:
    """Before every request: a session signed in by password alone (e.g. ``login_user``
    called directly, or a remember-me cookie) whose user has a second factor is signed out
    and sent to the second step, unless this device is remembered for them. otpgate's own
    pages and static files are left alone. A page of a session that passed, or of a user
    remembered in it as having no factor, costs no lookup: the session says so.
    ``current``: the request's session."""
    try:
        subject = gate.users.current_subject()
        if not subject:
            return None
        if SecondFactorState.passed_in(current, subject):
            return None
        if not has_factor_for_guard(gate, subject, current):
            return None
        if devices.resume_remembered(subject):  # sign-in only: step-up still asks
            return None
    except OtpgateError as error:
        return json_error(error) if wants_json() else render("otpgate/message.html", error=error)
    gate.users.log_out()
    back = request.full_path.rstrip("?") if request.method == "GET" else ""
    pending = SecondFactorState.load(session)
    pending.begin(subject, gate.verifier.clock(), back)
    save_state(pending)
    if wants_json():
        return json_error(OtpRequired())
    return redirect(url_for(gate.endpoint("verify")), code=303)
