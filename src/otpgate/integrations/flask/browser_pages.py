"""The pages' side of factors the browser answers (a passkey), with no factor named: the
template a factor brings (``otpgate/factors/<name>.html``), starting a browser-answered
factor each time its page is shown, and the challenge its answer is checked against."""

from __future__ import annotations

from typing import Any

from flask import current_app, session
from jinja2 import TemplateNotFound

from otpgate.core.factors import browser
from otpgate.core.factors.base import FactorOption
from otpgate.core.web import SecondFactorState

from .web import client_ip, load_state, locale, state


def factor_template(name: str) -> str:
    """``otpgate/factors/<name>.html`` if the factor has its own template (a passkey's
    button), else "" (the page's code input): chosen by name, never by a branch per factor."""
    candidate = f"otpgate/factors/{name}.html"
    try:
        current_app.jinja_env.get_template(candidate)
    except TemplateNotFound:
        return ""
    return candidate


def challenge_for(factor: str, purpose: str, current: SecondFactorState | None = None) -> str:
    """The challenge a check of ``factor`` answers: the one this page handed the browser
    for a factor the browser answers (a passkey), else the session's sent code (of
    ``current``, the session's state when the view has read it already)."""
    gate = state()
    if browser.named_factor_answered_by_browser(gate.verifier.registry, gate.settings, factor):
        return browser.recalled(session, purpose)
    return (current if current is not None else load_state()).challenge_id


def browser_start(subject: str, purpose: str, option: FactorOption) -> dict[str, Any] | None:
    """For a factor the browser answers (a passkey): start it each time the page is shown
    (its challenge is single use) and hand the page the browser's options."""
    if not browser.answered_by_browser(option):
        return None
    challenge = state().verifier.start(
        subject, option.name, purpose=purpose, client_ip=client_ip(), locale=locale()
    )
    browser.remember(session, purpose, challenge)
    return browser.options_of(challenge)
