"""The password step hands over to the second step: :func:`begin_second_step`.

``request.user`` stays anonymous until the second factor passes: the pending user's id waits
in the session (``SecondFactorState``), and only then is ``auth.login`` called, which rotates
the session id. ``OtpLoginView`` is ``django.contrib.auth``'s ``LoginView`` doing exactly that;
a custom login view calls :func:`begin_second_step` where it would call ``auth.login``::

    user = authenticate(request, username=..., password=...)
    if user is not None:
        return begin_second_step(request, user, request.GET.get("next", ""))
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.contrib import auth
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse

from otpgate.core.errors import DeliveryFailed, OtpgateError
from otpgate.core.i18n import error_message

from . import devices, layout, runtime
from .framing import protect
from .session import SessionData, client_ip, locale_of, next_url


def begin_second_step(
    request: HttpRequest, user: Any, next_url_: str = "", *, backend: str | None = None
) -> HttpResponse:
    """Call after the password step instead of ``auth.login``; returns the response to send.

    A user with a second factor is sent to the second step, which opens on their preferred
    factor (``gate.offer``): an SMS is sent at once only when the phone is the preferred one.
    One without is logged in (the middleware then sends them to enrollment if
    ``OTPGATE_REQUIRED`` covers them), and so is one on a device they asked to remember
    (``OTPGATE_REMEMBER_DEVICE``; see :mod:`otpgate.integrations.django.devices`).
    ``next_url_`` is only followed on this host.
    ``backend`` defaults to the one ``authenticate()`` set on ``user``.
    """
    target = next_url(request, next_url_)
    backend = (
        backend or getattr(user, "backend", None) or django_settings.AUTHENTICATION_BACKENDS[0]
    )
    response = hold_for_second_step(request, user, target, backend)
    if response is None:
        auth.login(request, user, backend=backend)
        return HttpResponseRedirect(target)
    return response


def hold_for_second_step(
    request: HttpRequest, user: Any, target: str, backend: str, *, handoff: str = ""
) -> HttpResponse | None:
    """Hold ``user``'s sign-in for the second step: the redirect to it, or None if the user
    has no factor that serves sign-in, or (with a hand-off) this device is remembered for
    them: nothing is held and the caller logs them in.

    The session id rotates and the session remembers the pending user (``backend`` loads it
    again), ``target`` and ``handoff``: who logs the user in once the factor passed
    (``session.HANDOFFS``; "" is ``auth.login`` then ``target``).
    """
    gate = runtime.get_verifier()
    subject = str(user.pk)
    options = gate.offer(subject, "login")  # the preferred factor first
    if not options:
        return None
    if handoff and devices.is_remembered(request, gate, user):
        devices.mark_remembered(request, gate, user)  # the hand-off logs the user in
        return None
    if not handoff and devices.sign_in_remembered(request, gate, user, backend):
        return HttpResponseRedirect(target)  # a remembered device: sign-in only
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        auth.logout(request)  # another account was signed in: start clean
    request.session.cycle_key()
    data = SessionData(request.session)
    data.state.begin(subject, gate.clock(), target)
    preferred = options[0]
    data.state.pending_backend, data.state.pending_method = backend, preferred.name
    data.extra = {"handoff": handoff} if handoff else {}
    if preferred.sends:
        try:
            challenge = gate.start(
                subject,
                preferred.name,
                purpose="login",
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            data.state.challenge_id = challenge.id if challenge else ""
        except OtpgateError as error:
            data.extra["notice_error"] = error_message(error, locale_of(request))
            failed_id = error.challenge_id if isinstance(error, DeliveryFailed) else None
            data.state.challenge_id = failed_id or ""
    data.save()
    return HttpResponseRedirect(reverse("otpgate:verify"))


class OtpLoginView(LoginView):
    """``django.contrib.auth.views.LoginView`` with the second step after the password.

    Renders ``registration/login.html`` if the site has one, else ``otpgate/login.html``.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """``LoginView``'s, with framing protection on the page."""
        return protect(super().dispatch(request, *args, **kwargs))

    def get_template_names(self) -> list[str]:
        names = [self.template_name] if self.template_name else []
        return [*names, "registration/login.html", "otpgate/login.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """``LoginView``'s context, with the template otpgate's pages extend."""
        return {**layout.context(), **super().get_context_data(**kwargs)}

    def form_valid(self, form: Any) -> HttpResponse:
        # Only the user's ``?next=`` or the view's ``next_page``: without them,
        # ``begin_second_step`` falls back to ``LOGIN_REDIRECT_URL``, or to otpgate's manage
        # page while that is Django's default ``/accounts/profile/`` and the site has none
        # (``get_success_url()`` would give that 404 page).
        target = self.get_redirect_url() or (resolve_url(self.next_page) if self.next_page else "")
        return begin_second_step(self.request, form.get_user(), target)
