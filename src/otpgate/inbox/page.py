"""The inbox page: server-rendered HTML in each of otpgate's languages, its texts from the same
``otpgate`` catalogues as the pages and messages (its script and style sheet are in ``assets``).

It is a development tool served by its own small server (``otpgate inbox``), not a page of the
site, so it has its own layout rather than the site's base template."""

from __future__ import annotations

import time
from html import escape

import phonenumbers

from otpgate.core.i18n import N_, canonical, gettext, is_bidi, languages, negotiate

from .store import InboxMessage

#: The page's texts (``scripts/i18n.py extract`` collects them into the ``otpgate``
#: catalogues, translated in every shipped language).
STRINGS: dict[str, str] = {
    "title": N_("otpgate SMS inbox"),
    "intro": N_(
        "Every SMS and voice call sent through InboxSender, newest first. "
        "For development only: never use this inbox in production."
    ),
    "auto": N_("This page refreshes by itself."),
    "filter": N_("Phone number"),
    "show": N_("Show"),
    "all": N_("Show all numbers"),
    "code": N_("Code"),
    "copy": N_("Copy"),
    "copyLabel": N_("Copy code {code} sent to {to}"),
    "copied": N_("Copied"),
    "copiedAnnounce": N_("Code {code} copied."),
    "empty": N_("No messages yet. Codes appear here as soon as they are sent."),
    "count": N_("Messages: {n}"),
    "newMessage": N_("New message to {to}: code {code}."),
    "file": N_("Inbox file"),
    "noCode": N_("no code"),
    "email": N_("email"),
    "languages": N_("Languages"),
}
_SCRIPT_STRINGS = ("copy", "copied", "copiedAnnounce", "newMessage")
#: Each shipped language's name in itself, for the language links.
AUTONYMS = {
    "en": "English",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "es": "Español",
    "pt-BR": "Português (Brasil)",
    "fr": "Français",
    "de": "Deutsch",
    "ja": "日本語",
    "ko": "한국어",
    "ru": "Русский",
    "hi": "हिन्दी",
    "ar": "العربية",
}


def texts(language: str) -> dict[str, str]:
    """:data:`STRINGS` in ``language`` (through otpgate's catalogues)."""
    return {key: gettext(text, language) for key, text in STRINGS.items()}


def pick_language(accept_language: str | None, override: str | None = None) -> str:
    """One of otpgate's languages (``zh-Hans``, ``ar``, ...): ``?lang=`` first (``zh``,
    ``pt`` and regional tags are understood), then the best of Accept-Language."""
    return canonical(override) or negotiate(accept_language)


def pretty_number(e164: str) -> str:
    """``+33612345678`` → ``+33 6 12 34 56 78`` (the full number: this is a dev inbox); an
    email address as it is."""
    if "@" in e164:
        return e164
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def _message(message: InboxMessage, s: dict[str, str]) -> str:
    to = pretty_number(message.to)
    code = message.code or ""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.sent_at))
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(message.sent_at))
    if code:
        label = escape(_fill(s["copyLabel"], code=code, to=to))
        code_html = (
            f'<span class="label" id="label-{message.id}">{escape(s["code"])}</span> '
            f'<strong class="code" id="code-{message.id}" '
            f'aria-labelledby="label-{message.id} code-{message.id}">{escape(code)}</strong> '
            f'<button type="button" class="copy" id="copy-{message.id}" '
            f'data-id="{message.id}" data-code="{escape(code)}" aria-label="{label}">'
            f"{escape(s['copy'])}</button>"
        )
    else:
        code_html = f'<span class="label">{escape(s["noCode"])}</span>'
    return (
        f'<li><article class="message" data-id="{message.id}" data-to="{escape(to)}" '
        f'data-kind="{message.kind}" '
        f'data-code="{escape(code)}">'
        f'<div class="row">{code_html}<time datetime="{iso}">{when}</time></div>'
        f'<p class="text">{escape(message.text)}</p></article></li>'
    )


def render_list(messages: list[InboxMessage], language: str) -> str:
    """The ``#messages`` element: one section per number, newest first."""
    s = texts(language)
    latest = max((m.id for m in messages), default=0)
    if not messages:
        return f'<div id="messages" data-latest="0"><p class="empty">{escape(s["empty"])}</p></div>'
    groups: dict[str, list[InboxMessage]] = {}
    for message in messages:  # already newest first, so numbers come in recency order
        groups.setdefault(message.to, []).append(message)
    sections = []
    for index, (number, sent) in enumerate(groups.items(), 1):
        count = _fill(s["count"], n=str(len(sent)))
        if "@" in number:  # emails beside the texts, marked as such
            count = f"{s['email']} · {count}"
        items = "".join(_message(m, s) for m in sent)
        sections.append(
            f'<section class="number" aria-labelledby="number-{index}">'
            f'<h2 id="number-{index}"><bdi>{escape(pretty_number(number))}</bdi> '
            f'<span class="count">({escape(count)})</span></h2>'
            f'<ul class="messages">{items}</ul></section>'
        )
    return f'<div id="messages" data-latest="{latest}">{"".join(sections)}</div>'


def _language_links(language: str, to: str) -> str:
    keep = f"&amp;to={escape(to)}" if to else ""
    links = []
    for code in languages():
        current = ' aria-current="true"' if code == language else ""
        name = escape(AUTONYMS.get(code, code))
        links.append(
            f'<li><a href="/?lang={code}{keep}" lang="{code}" hreflang="{code}"{current}>'
            f"{name}</a></li>"
        )
    return "".join(links)


def render_page(messages: list[InboxMessage], language: str, to: str, db_path: str) -> str:
    """The whole page."""
    s = texts(language)
    data = " ".join(f'data-{_kebab(k)}="{escape(s[k])}"' for k in _SCRIPT_STRINGS)
    direction = "rtl" if is_bidi(language) else "ltr"
    return f"""<!doctype html>
<html lang="{language}" dir="{direction}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{escape(s["title"])}</title>
<link rel="stylesheet" href="/inbox.css">
<script src="/inbox.js" defer></script>
<noscript><meta http-equiv="refresh" content="5"></noscript>
</head>
<body {data}>
<header>
<h1>{escape(s["title"])}</h1>
<p>{escape(s["intro"] + " " + s["auto"])}</p>
<p class="file">{escape(s["file"])}: <code>{escape(db_path)}</code></p>
<nav class="languages" aria-label="{escape(s["languages"])}">
<ul>{_language_links(language, to)}</ul></nav>
</header>
<main>
<form class="filter" role="search" method="get" action="/">
<input type="hidden" name="lang" value="{language}">
<label for="to">{escape(s["filter"])}</label>
<input id="to" name="to" type="search" inputmode="tel" autocomplete="off" value="{escape(to)}">
<button type="submit">{escape(s["show"])}</button>
<a href="/?lang={language}">{escape(s["all"])}</a>
</form>
<div id="status" class="visually-hidden" role="status" aria-live="polite"></div>
{render_list(messages, language)}
</main>
</body>
</html>
"""


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name)
