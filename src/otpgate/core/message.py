"""The SMS text: a translated template, the WebOTP line, and what the text costs to send.

A message is a template (brand, code, lifetime in minutes, optional transaction summary) in
the language of the call's locale, else of the number's region, else ``default_locale``;
then, when set, the Android SMS Retriever app hash and the WebOTP line ``@domain #code``,
which must be the last line. :func:`sms_info` tells GSM-7 from UCS-2 and counts segments
(160/153 septets, 70/67 UTF-16 units), so the cost is known before anything is sent;
:func:`check_sms_settings` refuses, at start-up, templates that could exceed
``max_sms_segments``.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from .errors import ConfigurationError
from .i18n import SHIPPED, translations
from .settings import Settings

#: GSM 03.38 default alphabet (one septet each); "\x1b" (the escape) is left out on purpose.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The default alphabet's extension table: escape + character, two septets each.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

#: Longest summary in the template's own alphabet that every accepted setting leaves room for.
SUMMARY_ROOM = 40
_WORST_SUMMARY = {"GSM-7": "W" * SUMMARY_ROOM, "UCS-2": "汉" * SUMMARY_ROOM}
_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_MULTI = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class SmsTemplate:
    """One language: the plain text and the text that shows a transaction summary.

    Placeholders: ``{brand}``, ``{code}``, ``{minutes}`` and (second text) ``{summary}``.
    """

    plain: str
    with_summary: str


#: The source text; every shipped language's template is its translation in the ``otpgate``
#: catalogue (see :mod:`otpgate.core.i18n`).
ENGLISH_SMS = SmsTemplate(
    "{brand}: your verification code is {code}. It expires in {minutes} min. Never share it.",
    "{brand}: code {code} confirms {summary}. It expires in {minutes} min. "
    "If this was not you, do not share it.",
)


def _shipped_templates() -> dict[str, SmsTemplate]:
    found = {"en": ENGLISH_SMS}
    for language in SHIPPED[1:]:
        catalogue = translations(language)
        plain = catalogue.gettext(ENGLISH_SMS.plain)
        with_summary = catalogue.gettext(ENGLISH_SMS.with_summary)
        if plain != ENGLISH_SMS.plain and with_summary != ENGLISH_SMS.with_summary:
            found[language] = SmsTemplate(plain, with_summary)
    return found


_TEMPLATES: dict[str, SmsTemplate] = _shipped_templates()
#: Languages inferred from a number's region when the call gives no (known) locale (a site
#: adds more with ``register_sms_template(..., regions=...)``).
_REGION_LANGUAGES: dict[str, str] = {
    "CN": "zh-Hans",
    "TW": "zh-Hant",
    "HK": "zh-Hant",
    "MO": "zh-Hant",
}
_ALIASES = {
    "zh": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-my": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-mo": "zh-Hant",
    "zh-hant": "zh-Hant",
    "pt": "pt-BR",
}


def register_sms_template(
    language: str, plain: str, with_summary: str, *, regions: tuple[str, ...] = ()
) -> None:
    """Add or replace the template of ``language`` (e.g. ``"fr"``), optionally used for
    numbers of ``regions`` (``("FR", "BE")``). Register before building verifiers: their
    construction checks every template against ``max_sms_segments``."""
    for name, text in (("plain", plain), ("with_summary", with_summary)):
        if "{code}" not in text:
            raise ConfigurationError(f"sms template {language}", f"{name} lacks {{code}}")
        try:
            text.format(brand="b", code="0", minutes=1, summary="s")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError(f"sms template {language}", f"{name}: {exc}") from None
    if "{summary}" not in with_summary:
        raise ConfigurationError(f"sms template {language}", "with_summary lacks {summary}")
    _TEMPLATES[language] = SmsTemplate(plain, with_summary)
    for region in regions:
        _REGION_LANGUAGES[region.upper()] = language


def sms_languages() -> tuple[str, ...]:
    """The languages that have a template."""
    return tuple(sorted(_TEMPLATES))


def _known(locale: str | None) -> str | None:
    """The template language for a BCP 47 tag (``zh_TW``, ``zh-Hant-HK``, ``en-GB``)."""
    if not locale:
        return None
    tag = locale.strip().replace("_", "-").lower()
    names = {name.lower(): name for name in _TEMPLATES}
    parts = tag.split("-")
    for candidate in (tag, "-".join(parts[:2]), parts[0]):
        name = names.get(candidate) or _ALIASES.get(candidate)
        if name in _TEMPLATES:
            return name
    return None


def sms_language(locale: str | None, region: str | None, default: str) -> str:
    """The template language: the locale's, else the region's, else the default's, else en."""
    by_region = _REGION_LANGUAGES.get((region or "").upper())
    return _known(locale) or _known(by_region) or _known(default) or "en"


def region_of(e164: str) -> str | None:
    """The ISO region of an E.164 number (``+8613…`` → ``CN``), or None."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or None
    except phonenumbers.NumberParseException:
        return None


@dataclass(frozen=True)
class SmsInfo:
    """What a text costs: its encoding, length in septets or UTF-16 units, and segments."""

    encoding: str
    units: int
    segments: int

    @property
    def per_segment(self) -> int:
        """How many units each segment holds for this text."""
        return _SINGLE[self.encoding] if self.segments <= 1 else _MULTI[self.encoding]


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM 03.38 default alphabet or its extension."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_info(text: str) -> SmsInfo:
    """Encoding (``GSM-7`` or ``UCS-2``), units and segment count of ``text``.

    Concatenated segments carry a header (153 septets or 67 units left) and never split an
    escape sequence or a surrogate pair, which can cost a segment more than plain division.
    """
    if is_gsm7(text):
        encoding, sizes = "GSM-7", [2 if c in GSM7_EXTENSION else 1 for c in text]
    else:
        encoding, sizes = "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]
    units = sum(sizes)
    if units <= _SINGLE[encoding]:
        return SmsInfo(encoding, units, 1 if units else 0)
    segments, room = 1, _MULTI[encoding]
    for size in sizes:
        if size > room:
            segments, room = segments + 1, _MULTI[encoding]
        room -= size
    return SmsInfo(encoding, units, segments)


@dataclass(frozen=True)
class Sms:
    """A rendered message: its text, template language, and :class:`SmsInfo`."""

    text: str
    language: str
    info: SmsInfo


def compose_sms(
    settings: Settings,
    code: str,
    *,
    locale: str | None = None,
    summary: str = "",
    region: str | None = None,
) -> Sms:
    """Render the message for ``code``; ``region`` is the number's (for its language)."""
    language = sms_language(locale, region, settings.default_locale)
    template = _TEMPLATES[language]
    text = (template.with_summary if summary else template.plain).format(
        brand=settings.brand,
        code=code,
        minutes=max(1, settings.code_lifetime // 60),
        summary=summary,
    )
    tail = []
    if settings.android_app_hash:
        tail.append(settings.android_app_hash)
    if settings.webotp_domain:
        tail.append(f"@{settings.webotp_domain} #{code}")
    if tail:
        text += "\n\n" + "\n".join(tail)
    return Sms(text, language, sms_info(text))


def render_sms(
    settings: Settings,
    code: str,
    *,
    locale: str | None = None,
    summary: str = "",
    region: str | None = None,
) -> str:
    """The text to send. ``summary`` is a short description of a bound transaction."""
    return compose_sms(settings, code, locale=locale, summary=summary, region=region).text


def _worst_code(settings: Settings) -> str:
    return "0" * settings.code_digits


def summary_fits(
    settings: Settings, summary: str, *, locale: str | None = None, region: str | None = None
) -> bool:
    """Whether a message showing ``summary`` stays within ``max_sms_segments``."""
    sms = compose_sms(
        settings, _worst_code(settings), locale=locale, summary=summary, region=region
    )
    return sms.info.segments <= settings.max_sms_segments


def check_sms_settings(settings: Settings) -> None:
    """Raise ConfigurationError when a template could exceed ``max_sms_segments``.

    Every language is rendered with the configured brand, WebOTP domain and app hash, the
    longest code, and a summary of :data:`SUMMARY_ROOM` characters of the template's own
    alphabet. With an Android app hash, the plain message must fit one segment: the SMS
    Retriever API only reads messages of at most 140 bytes.
    """
    code = _worst_code(settings)
    for language in sorted(sms_languages(), key=lambda name: name != "en"):  # English first
        plain = compose_sms(settings, code, locale=language)
        _limit(plain, settings.max_sms_segments, "max_sms_segments")
        if settings.android_app_hash:
            _limit(plain, 1, "android_app_hash")
        summary = _WORST_SUMMARY[plain.info.encoding]
        full = compose_sms(settings, code, locale=language, summary=summary)
        _limit(full, settings.max_sms_segments, "max_sms_segments")


def _limit(sms: Sms, segments: int, setting: str) -> None:
    if sms.info.segments <= segments:
        return
    raise ConfigurationError(
        setting,
        f"the {sms.language} SMS takes {sms.info.segments} segments "
        f"({sms.info.units} {sms.info.encoding} units, {sms.info.per_segment} per segment), "
        f"more than {segments}: shorten the brand or WebOTP domain, or allow more segments",
    )
