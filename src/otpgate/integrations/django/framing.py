"""Framing protection on otpgate's pages: ``X-Frame-Options`` and CSP ``frame-ancestors``
from the core's :func:`~otpgate.core.framing.framing_headers` (``OTPGATE_FRAME_ANCESTORS``).

Every view of ``otpgate.integrations.django.urls``, ``OtpLoginView`` and every page otpgate
renders in the site's own views (``confirm_transaction``) carries them, whether or not the
site has Django's ``XFrameOptionsMiddleware``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings as django_settings
from django.http import HttpResponseBase

from otpgate.core.framing import CSP, X_FRAME_OPTIONS, add_framing_headers, framing_headers

from . import runtime

V = TypeVar("V", bound=Callable[..., Any])
#: Django's own CSP middleware (6.0+): it leaves a header a view set alone.
CSP_MIDDLEWARE = "django.middleware.csp.ContentSecurityPolicyMiddleware"


def protect(response: HttpResponseBase) -> HttpResponseBase:
    """Add the framing headers to ``response``. With Django's CSP middleware and
    ``SECURE_CSP``, the site's policy is handed on with ``frame-ancestors`` added, so
    otpgate's pages keep the rest of it."""
    settings = runtime.settings()
    policy = getattr(django_settings, "SECURE_CSP", None)
    if response.get(CSP) is None and policy and CSP_MIDDLEWARE in django_settings.MIDDLEWARE:
        config = dict(policy)
        config.setdefault("frame-ancestors", list(settings.frame_ancestors) or ["'none'"])
        response._csp_config = config  # type: ignore[attr-defined]  # what @csp_override sets
        if response.get(X_FRAME_OPTIONS) is None:
            response[X_FRAME_OPTIONS] = framing_headers(settings)[X_FRAME_OPTIONS]
        return response
    add_framing_headers(response, settings)
    return response


def frame_protected(view: V) -> V:
    """A view (sync or async) whose responses carry the framing headers."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_view(*args: Any, **kwargs: Any) -> Any:
            return protect(await view(*args, **kwargs))

        markcoroutinefunction(async_view)
        return cast(V, async_view)

    @functools.wraps(view)
    def sync_view(*args: Any, **kwargs: Any) -> Any:
        return protect(view(*args, **kwargs))

    return cast(V, sync_view)
