"""The replay page's form, as the Django and Flask tests read it (and post a form)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class Form(HTMLParser):
    """The action and inputs of the page's ``otpgate-replay`` form."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action, self.inputs, self.auto, self._inside = "", [], False, False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and values.get("id") == "otpgate-replay":
            self._inside, self.action = True, values.get("action") or ""
            self.auto = "data-otpgate-auto" in values
        elif tag == "input" and self._inside:
            self.inputs.append((values.get("type"), values.get("name"), values.get("value")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False

    def fields(self) -> list[tuple[str, str]]:
        return [(n or "", v or "") for t, n, v in self.inputs if t == "hidden"]


POST_FORM = """([action, fields]) => {
  const form = document.createElement("form");
  form.method = "post"; form.action = action;
  for (const [name, value] of fields) {
    const input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value; form.append(input);
  }
  document.body.append(form);
  HTMLFormElement.prototype.submit.call(form);
}"""


def post_form(page: Any, action: str, fields: list[tuple[str, str]]) -> None:
    """Post ``fields`` to ``action`` from ``page``, as the page's own form would."""
    page.evaluate(POST_FORM, [action, [list(pair) for pair in fields]])
