"""The inbox page: server-rendered HTML in English or Simplified Chinese (its script and
style sheet are in ``assets``)."""

from __future__ import annotations

import time
from html import escape

import phonenumbers

from .store import InboxMessage

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "lang": "en",
        "title": "otpgate SMS inbox",
        "intro": "Every SMS and voice call sent through InboxSender, newest first. "
        "For development only: "
        "never use this inbox in production.",
        "filter": "Phone number",
        "show": "Show",
        "all": "Show all numbers",
        "code": "Code",
        "copy": "Copy",
        "copyLabel": "Copy code {code} sent to {to}",
        "copied": "Copied",
        "copiedAnnounce": "Code {code} copied.",
        "empty": "No messages yet. Codes appear here as soon as they are sent.",
        "one": "1 message",
        "many": "{n} messages",
        "newMessage": "New message to {to}: code {code}.",
        "auto": " This page refreshes by itself.",
        "file": "Inbox file",
        "other": "中文",
        "otherLang": "zh",
        "noCode": "no code",
        "email": "email",
    },
    "zh": {
        "lang": "zh-CN",
        "title": "otpgate 短信收件箱",
        "intro": "通过 InboxSender 发送的所有短信和语音电话，最新的在前。"
        "仅供开发使用，切勿用于生产环境。",
        "filter": "手机号码",
        "show": "显示",
        "all": "显示全部号码",
        "code": "验证码",
        "copy": "复制",
        "copyLabel": "复制发送到 {to} 的验证码 {code}",
        "copied": "已复制",
        "copiedAnnounce": "验证码 {code} 已复制。",
        "empty": "还没有短信。验证码一经发送就会显示在这里。",
        "one": "1 条短信",
        "many": "{n} 条短信",
        "newMessage": "{to} 收到新短信：验证码 {code}。",
        "auto": "本页面会自动刷新。",
        "file": "收件箱文件",
        "other": "English",
        "otherLang": "en",
        "noCode": "无验证码",
        "email": "电子邮件",
    },
}
_SCRIPT_STRINGS = ("copy", "copied", "copiedAnnounce", "newMessage")


def pick_language(accept_language: str | None, override: str | None = None) -> str:
    """``zh`` or ``en``: ``?lang=`` first, then the best of Accept-Language."""
    if override in STRINGS:
        return str(override)
    best, best_q = "en", 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in STRINGS and q > best_q:
            best, best_q = language, q
    return best


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
    s = STRINGS[language]
    latest = max((m.id for m in messages), default=0)
    if not messages:
        return f'<div id="messages" data-latest="0"><p class="empty">{escape(s["empty"])}</p></div>'
    groups: dict[str, list[InboxMessage]] = {}
    for message in messages:  # already newest first, so numbers come in recency order
        groups.setdefault(message.to, []).append(message)
    sections = []
    for index, (number, sent) in enumerate(groups.items(), 1):
        count = s["one"] if len(sent) == 1 else _fill(s["many"], n=str(len(sent)))
        if "@" in number:  # emails beside the texts, marked as such
            count = f"{s['email']}, {count}"
        items = "".join(_message(m, s) for m in sent)
        sections.append(
            f'<section class="number" aria-labelledby="number-{index}">'
            f'<h2 id="number-{index}">{escape(pretty_number(number))} '
            f'<span class="count">({escape(count)})</span></h2>'
            f'<ul class="messages">{items}</ul></section>'
        )
    return f'<div id="messages" data-latest="{latest}">{"".join(sections)}</div>'


def render_page(messages: list[InboxMessage], language: str, to: str, db_path: str) -> str:
    """The whole page."""
    s = STRINGS[language]
    data = " ".join(f'data-{_kebab(k)}="{escape(s[k])}"' for k in _SCRIPT_STRINGS)
    other = f"?lang={s['otherLang']}" + (f"&amp;to={escape(to)}" if to else "")
    return f"""<!doctype html>
<html lang="{s["lang"]}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(s["title"])}</title>
<link rel="stylesheet" href="/inbox.css">
<script src="/inbox.js" defer></script>
<noscript><meta http-equiv="refresh" content="5"></noscript>
</head>
<body {data}>
<header>
<h1>{escape(s["title"])}</h1>
<p>{escape(s["intro"] + s["auto"])}</p>
<p class="file">{escape(s["file"])}: <code>{escape(db_path)}</code>
 · <a href="/{other}" lang="{"zh-CN" if s["otherLang"] == "zh" else "en"}">{s["other"]}</a></p>
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
