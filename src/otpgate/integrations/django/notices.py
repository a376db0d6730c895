"""Success notices ("Phone number removed.") shown once on the next page otpgate renders.

They go through ``django.contrib.messages`` where the site has it (app installed and its
middleware run), so a site's own base template shows them like its own messages; without
it they are kept in the session and shown once all the same (a silent fallback: nothing to
configure). otpgate's pages show them in their ``role="status"`` region.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.apps import apps
from django.http import HttpRequest

from otpgate.core.i18n import gettext

from .session import SessionData, locale_of

#: The session slot of the notices kept without ``django.contrib.messages``.
SLOT = "notices"
#: The messages' ``extra_tags`` (a site's template may style or filter them).
TAG = "otpgate"


def _messages_on(request: HttpRequest) -> bool:
    return apps.is_installed("django.contrib.messages") and hasattr(request, "_messages")


def notify(request: HttpRequest, msgid: str) -> None:
    """Queue the notice ``msgid`` (an English text of the core's), in the request's language."""
    text = gettext(msgid, locale_of(request))
    if _messages_on(request):
        from django.contrib import messages

        messages.success(request, text, extra_tags=TAG)
        return
    data = SessionData(request.session)
    queued = data.extra.get(SLOT)
    data.extra[SLOT] = [*(queued if isinstance(queued, list) else []), text]
    data.save()


def pending(request: HttpRequest) -> list[Any]:
    """The notices to show now (each once): the site's messages too, where it has them.
    None in an async view (a refusal page of the JSON API): its session is not read there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return []
    shown: list[Any] = []
    if _messages_on(request):
        from django.contrib import messages

        shown.extend(str(message) for message in messages.get_messages(request))
    data = SessionData(request.session)
    queued = data.extra.pop(SLOT, None)
    if isinstance(queued, list):
        shown.extend(text for text in queued if isinstance(text, str))
        data.save()
    return shown
