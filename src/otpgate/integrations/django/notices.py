"""Success notices ("Phone number removed.") shown once, on the next page otpgate renders.

They are kept in otpgate's own session slot and shown, and used up, by otpgate's card in
its ``role="status"`` region: never through ``django.contrib.messages``, so a site's base
template looping over ``messages`` does not show them a second time, and the card does not
show the site's messages (the site's layout does).
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.http import HttpRequest

from otpgate.core.i18n import gettext

from .session import SessionData, locale_of

#: The session slot (in otpgate's session data) of the notices not shown yet.
SLOT = "notices"


def notify(request: HttpRequest, msgid: str) -> None:
    """Queue the notice ``msgid`` (an English text of the core's), in the request's language."""
    text = gettext(msgid, locale_of(request))
    data = SessionData(request.session)
    queued = data.extra.get(SLOT)
    data.extra[SLOT] = [*(queued if isinstance(queued, list) else []), text]
    data.save()


def pending(request: HttpRequest) -> list[Any]:
    """otpgate's notices to show now (each once). None in an async view (a refusal page of
    the JSON API): its session is not read there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return []
    shown: list[Any] = []
    data = SessionData(request.session)
    queued = data.extra.pop(SLOT, None)
    if isinstance(queued, list):
        shown.extend(text for text in queued if isinstance(text, str))
        data.save()
    return shown
