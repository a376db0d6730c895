"""Translations of user-visible text: error messages, SMS texts and the Flask pages.

English is the source text. The other languages ship as the gettext domain ``otpgate``
(``otpgate/locale/<lang>/LC_MESSAGES/otpgate.mo``, read with the standard library's
:mod:`gettext`; ``scripts/i18n.py`` extracts and compiles them with Babel). A site adds or
overrides a language with :func:`add_locale_dir` (a directory of its own ``otpgate.po/.mo``
catalogues, searched before otpgate's) or, for a few strings, :func:`register`.

Language tags are BCP 47 (``zh-Hans``, ``pt-BR``); :func:`language_of` maps what a browser
or framework sends (``zh_CN``, ``zh-TW``, ``pt``, ``ar-EG``) to one otpgate has text for.
"""

from __future__ import annotations

import gettext as _gettext
import math
from collections.abc import Iterator, Mapping
from dataclasses import astuple
from functools import lru_cache
from pathlib import Path

from .errors import LockedOut, OtpgateError, RateLimited

DOMAIN = "otpgate"
#: otpgate's own catalogues.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
#: Every language otpgate ships, English (the source text) first.
SHIPPED: tuple[str, ...] = (
    "en", "zh-Hans", "zh-Hant", "es", "pt-BR", "fr", "de", "ja", "ko", "ru", "hi", "ar",
)  # fmt: skip
#: Languages written right to left (``dir="rtl"``).
BIDI = frozenset({"ar", "fa", "he", "ur", "ps", "yi", "ckb"})
_ALIASES = {
    "zh": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-my": "zh-Hans",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-mo": "zh-Hant",
    "pt": "pt-BR",
}
_SITE_DIRS: list[Path] = []
_CATALOG: dict[str, dict[str, str]] = {}


def dir_name(language: str) -> str:
    """The gettext directory of a BCP 47 tag: ``zh-Hans`` → ``zh_Hans``, ``pt-BR`` → ``pt_BR``."""
    return language.replace("-", "_")


def _site_languages() -> Iterator[str]:
    for root in _SITE_DIRS:
        for mo in root.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"):
            yield mo.parent.parent.name.replace("_", "-")


def languages() -> tuple[str, ...]:
    """Every language with text: shipped, then a site's (:func:`add_locale_dir`,
    :func:`register`), English first."""
    extra = sorted({*_site_languages(), *_CATALOG} - set(SHIPPED))
    return (*SHIPPED, *extra)


def canonical(tag: str | None, available: tuple[str, ...] | None = None) -> str | None:
    """The language of ``available`` (default :func:`languages`) for a tag, or None:
    ``zh-Hant-HK`` → ``zh-Hant``, ``zh_CN`` → ``zh-Hans``, ``pt`` → ``pt-BR``,
    ``fr-CA`` → ``fr``."""
    tag = (tag or "").strip().replace("_", "-").lower()
    if not tag:
        return None
    names = {name.lower(): name for name in (available or languages())}
    parts = tag.split("-")
    for candidate in (tag, "-".join(parts[:2]), parts[0]):
        name = names.get(candidate) or names.get(_ALIASES.get(candidate, "").lower())
        if name:
            return name
    return None


def language_of(locale: str | None, default: str = "en") -> str:
    """The language otpgate uses for ``locale``, else for ``default``, else English."""
    return canonical(locale) or canonical(default) or "en"


def is_bidi(language: str) -> bool:
    """Whether ``language`` is written right to left."""
    return language.replace("_", "-").split("-")[0].lower() in BIDI


def negotiate(
    accept_language: str | None, default: str = "en", available: tuple[str, ...] | None = None
) -> str:
    """The best of ``available`` (default: :func:`languages`) for an Accept-Language header."""
    offered = tuple(language_of(name) for name in available) if available else languages()
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "")[:1000].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = canonical(tag, offered)
        if language and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else language_of(default)


def add_locale_dir(path: str | Path) -> None:
    """Search ``path`` (``<path>/<lang>/LC_MESSAGES/otpgate.mo``) before otpgate's own
    catalogues: a site's new language, or its wording of a shipped one."""
    resolved = Path(path).resolve()
    if resolved not in _SITE_DIRS:
        _SITE_DIRS.insert(0, resolved)
    translations.cache_clear()


def register(language: str, strings: Mapping[str, str]) -> None:
    """Add translations (English source text → translated text) for ``language``;
    they win over every catalogue."""
    _CATALOG.setdefault(canonical(language) or language, {}).update(strings)


@lru_cache(maxsize=64)
def translations(language: str) -> _gettext.NullTranslations:
    """The ``otpgate`` catalogue of ``language``: a site's first, then otpgate's."""
    chain: _gettext.NullTranslations | None = None
    for root in (*_SITE_DIRS, LOCALE_DIR):
        found = _gettext.translation(DOMAIN, root, [dir_name(language)], fallback=True)
        if type(found) is _gettext.NullTranslations:
            continue
        if chain is None:
            chain = found
        else:
            chain.add_fallback(found)
    return chain or _gettext.NullTranslations()


def N_(text: str) -> str:
    """Mark ``text`` for ``scripts/i18n.py extract`` where it is defined (a template, a
    subject line); translate it where it is shown, with :func:`gettext`."""
    return text


def gettext(text: str, locale: str | None) -> str:
    """``text`` in the language of ``locale``, or ``text`` itself."""
    language = language_of(locale)
    registered = _CATALOG.get(language, {}).get(text)
    if registered:
        return registered
    return text if language == "en" else translations(language).gettext(text)


def ngettext(singular: str, plural: str, n: int, locale: str | None) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the language of ``locale`` (its
    plural rules: Russian has three forms, Japanese one)."""
    language = language_of(locale)
    if language == "en":
        return singular if n == 1 else plural
    return translations(language).ngettext(singular, plural, n)


def wait_parts(seconds: int) -> tuple[str, int]:
    """How a wait of ``seconds`` is said: ``("seconds", n)`` under a minute, else
    ``("minutes", n)`` rounded up (539 s → 9 minutes), so no page says "539 s"."""
    seconds = max(1, int(seconds))
    return ("seconds", seconds) if seconds < 60 else ("minutes", math.ceil(seconds / 60))


def wait_text(seconds: int, locale: str | None) -> str:
    """ "Try again in 45 seconds." or "Try again in 9 minutes." in the language of ``locale``
    (the wait after a rate limit, as every otpgate page says it)."""
    unit, n = wait_parts(seconds)
    if unit == "minutes":
        text = ngettext("Try again in {n} minute.", "Try again in {n} minutes.", n, locale)
    else:
        text = ngettext("Try again in {n} second.", "Try again in {n} seconds.", n, locale)
    return text.format(n=n)


def error_text(error: OtpgateError) -> str:
    """The English text shown for ``error``: a rate limit without ``retry_after`` adds
    "Try again later." (with one, pages say how long instead)."""
    later = error.later_message if isinstance(error, RateLimited) else ""
    if later and error.retry_after is None and not (isinstance(error, LockedOut) and error.hard):
        return f"{error.message} {later}"
    return error.message


def error_message(error: OtpgateError, locale: str | None) -> str:
    """The error's message in the language of ``locale``. A message of its own (``raise
    MalformedInput("...")``) that has no translation gives way to the translated default
    message of its class; English is the last resort."""
    text = error_text(error)
    translated = gettext(text, locale)
    if translated == text and language_of(locale) != "en" and text != error.default_message:
        fallback = gettext(error.default_message, locale)
        if fallback != error.default_message:
            return fallback
    return translated


def source_messages() -> dict[str, str]:
    """Every core msgid → where it comes from: error messages, SMS, email and voice texts (what
    ``scripts/i18n.py extract`` adds to the Flask strings)."""
    from . import answers  # noqa: F401  (its errors too)
    from .mail import ENGLISH_EMAIL
    from .message import ENGLISH_SMS
    from .voice import ENGLISH_VOICE

    found: dict[str, str] = {}
    pending: list[type[OtpgateError]] = [OtpgateError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__module__.startswith("otpgate."):
            continue
        where = f"{cls.__module__}.{cls.__name__}"
        found.setdefault(cls.default_message, where)
        if issubclass(cls, RateLimited) and cls.later_message:
            found.setdefault(f"{cls.default_message} {cls.later_message}", where)
    found.setdefault(LockedOut.hard_message, "otpgate.core.errors.LockedOut")
    for text in (ENGLISH_SMS.plain, ENGLISH_SMS.with_summary):
        found.setdefault(text, "otpgate.core.message")
    for text in astuple(ENGLISH_EMAIL):
        found.setdefault(text, "otpgate.core.mail")
    found.setdefault(ENGLISH_VOICE.text, "otpgate.core.voice")
    return found
