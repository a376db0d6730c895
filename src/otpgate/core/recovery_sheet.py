"""The recovery codes as a text file to keep: what the pages offer to download, copy and print.

New recovery codes are shown once, in the answer that made them (the store keeps only their
hashes). :func:`recovery_sheet` is that answer's text: a heading naming the site's brand, the
account and the date, one code per line, then how to use them. The pages build their download
link (:func:`data_url`, :func:`file_name`) from it in the same answer, so nothing keeps the
codes in clear to serve a later download; FastAPI answers it to ``Accept: text/plain``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import quote

from .i18n import N_, gettext

#: The text file's media type.
MEDIA_TYPE = "text/plain; charset=utf-8"
#: The sheet's lines before the codes, then after them (English source text; ``{brand}``,
#: ``{account}``, ``{date}`` filled in).
TITLE = N_("{brand} recovery codes")
ACCOUNT = N_("Account: {account}")
CREATED = N_("Created: {date}")
HOW_TO_USE = N_(
    "Each code works once, when you cannot use your phone or app to sign in."
    " Keep this file somewhere safe. New codes replace these ones."
)
_UNSAFE = re.compile(r"[^0-9A-Za-z]+")


@dataclass(frozen=True)
class RecoverySheet:
    """The codes as a file: ``text`` (one code a line), its ``heading`` lines (title, account,
    date: what a printed page shows above the codes), ``file_name``, and the ``data_url`` a
    page's download link points at."""

    heading: tuple[str, str, str]
    text: str
    file_name: str

    @property
    def title(self) -> str:
        """``<brand> recovery codes``, translated."""
        return self.heading[0]

    @property
    def data_url(self) -> str:
        """The file as a ``data:`` URL, for ``<a download>``: it needs no request back."""
        return data_url(self.text)


def file_name(brand: str) -> str:
    """``<brand>-recovery-codes.txt``, the brand reduced to ASCII letters, digits and dashes
    (``Acme Bank`` → ``acme-bank-recovery-codes.txt``; ``recovery-codes.txt`` if none is left)."""
    slug = _UNSAFE.sub("-", brand).strip("-").lower()
    return f"{slug}-recovery-codes.txt" if slug else "recovery-codes.txt"


def data_url(text: str) -> str:
    """``text`` as a UTF-8 ``data:text/plain`` URL (percent-encoded)."""
    return "data:text/plain;charset=utf-8," + quote(text, safe="")


def _day(when: datetime | date | float) -> str:
    if isinstance(when, (int, float)):
        when = datetime.fromtimestamp(when, tz=timezone.utc)
    if isinstance(when, datetime):
        when = when.astimezone(timezone.utc).date() if when.tzinfo else when.date()
    return when.isoformat()


def recovery_sheet(
    codes: Sequence[str],
    *,
    brand: str,
    account: str,
    created: datetime | date | float,
    locale: str | None = None,
) -> RecoverySheet:
    """The sheet of ``codes`` for ``account`` at ``brand``, made on ``created`` (a date, or an
    aware datetime or Unix time, shown as its UTC date YYYY-MM-DD), in the language of
    ``locale``. Lines end with ``\\n``; the codes are one a line, nothing else on it."""
    heading = (
        gettext(TITLE, locale).format(brand=brand),
        gettext(ACCOUNT, locale).format(account=account),
        gettext(CREATED, locale).format(date=_day(created)),
    )
    lines = [*heading, "", *codes, "", gettext(HOW_TO_USE, locale), ""]
    return RecoverySheet(heading=heading, text="\n".join(lines), file_name=file_name(brand))


def wants_text(accept: str | None) -> bool:
    """True when an ``Accept`` header ranks ``text/plain`` above JSON (q-values heeded; a
    tie goes to JSON, the API's default answer)."""
    best = {"text": 0.0, "json": 0.0}
    for item in (accept or "").split(","):
        media, *params = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media == "text/plain":
            best["text"] = max(best["text"], quality)
        elif media in ("application/json", "application/*", "*/*"):
            best["json"] = max(best["json"], quality)
    return best["text"] > best["json"]
