"""The email carrying a code: a subject line, a plain text and an HTML body, translated.

The code is in the subject line ("123456 is your otpgate code"), so a notification preview
shows it without opening the message, and in both bodies. The language is the call's locale,
else ``default_locale``, else English; a transaction's summary, when the code is bound to
one, is shown in both bodies (and HTML-escaped in the HTML one).
"""

from __future__ import annotations

import html
from dataclasses import astuple, dataclass, field

from .errors import ConfigurationError
from .i18n import SHIPPED, translations
from .settings import Settings


@dataclass(frozen=True)
class EmailTemplate:
    """One language. Placeholders: ``{brand}``, ``{code}``, ``{minutes}``, ``{summary}``."""

    subject: str
    intro: str
    confirms: str
    expires: str
    warning: str


#: The source text; every shipped language's email is its translation in the ``otpgate``
#: catalogue (see :mod:`otpgate.core.i18n`).
ENGLISH_EMAIL = EmailTemplate(
    subject="{code} is your {brand} verification code",
    intro="Your {brand} verification code is:",
    confirms="It confirms: {summary}",
    expires="It expires in {minutes} min.",
    warning="Never share this code. If you did not ask for it, ignore this email.",
)


def _shipped_templates() -> dict[str, EmailTemplate]:
    found = {"en": ENGLISH_EMAIL}
    english = astuple(ENGLISH_EMAIL)
    for language in SHIPPED[1:]:
        catalogue = translations(language)
        texts = tuple(catalogue.gettext(text) for text in english)
        if all(mine != source for mine, source in zip(texts, english, strict=True)):
            found[language] = EmailTemplate(*texts)
    return found


_TEMPLATES: dict[str, EmailTemplate] = _shipped_templates()
_ALIASES = {
    "zh": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-mo": "zh-Hant",
    "zh-hant": "zh-Hant",
    "pt": "pt-BR",
}


@dataclass(frozen=True)
class EmailMessage:
    """A rendered email, ready for an :class:`~otpgate.core.mailers.EmailSender`."""

    to: str
    subject: str = field(repr=False)
    text: str = field(repr=False)
    html: str = field(repr=False)
    language: str = "en"


def register_email_template(language: str, template: EmailTemplate) -> None:
    """Add or replace the email of ``language`` (e.g. ``"fr"``); ConfigurationError if its
    subject line lacks ``{code}`` or a text has an unknown placeholder."""
    if "{code}" not in template.subject:
        raise ConfigurationError(f"email template {language}", "the subject lacks {code}")
    for text in (template.subject, template.intro, template.confirms, template.expires):
        try:
            text.format(brand="b", code="0", minutes=1, summary="s")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError(f"email template {language}", str(exc)) from None
    _TEMPLATES[language] = template


def email_language(locale: str | None, default: str) -> str:
    """The template language of ``locale`` (``zh_TW`` → ``zh-Hant``), else of ``default``."""
    names = {name.lower(): name for name in _TEMPLATES}
    for candidate in (locale, default):
        tag = (candidate or "").strip().replace("_", "-").lower()
        parts = tag.split("-")
        for option in (tag, "-".join(parts[:2]), parts[0]):
            name = names.get(option) or _ALIASES.get(option)
            if name in _TEMPLATES:
                return name
    return "en"


def render_email(
    settings: Settings, to: str, code: str, *, locale: str | None = None, summary: str = ""
) -> EmailMessage:
    """The email that sends ``code`` to ``to``."""
    language = email_language(locale, settings.default_locale)
    template = _TEMPLATES[language]
    values = {
        "brand": settings.brand,
        "code": code,
        "minutes": max(1, settings.code_lifetime // 60),
        "summary": summary,
    }
    lines = [template.intro.format(**values), "", code, ""]
    if summary:
        lines += [template.confirms.format(**values), ""]
    lines += [template.expires.format(**values), template.warning.format(**values)]
    escaped = {key: html.escape(str(value)) for key, value in values.items()}
    confirms = f"<p>{template.confirms.format(**escaped)}</p>\n" if summary else ""
    body = (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(template.subject.format(**values))}</title></head>\n<body>\n"
        f"<p>{template.intro.format(**escaped)}</p>\n"
        f'<p style="font-size:28px;font-weight:bold;letter-spacing:4px;'
        f'font-family:monospace">{escaped["code"]}</p>\n'
        f"{confirms}<p>{template.expires.format(**escaped)}</p>\n"
        f"<p>{template.warning.format(**escaped)}</p>\n</body>\n</html>\n"
    )
    return EmailMessage(
        to=to,
        subject=template.subject.format(**values),
        text="\n".join(lines) + "\n",
        html=body,
        language=language,
    )
