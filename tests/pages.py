"""A tour of every otpgate page of ``otpgate demo``, in a browser, for the accessibility audit
(tests/demo/test_a11y.py) and the screenshots (scripts/screenshots.py).

The tour signs in to the Django site and the Flask bank, then walks the second step (send,
wrong code, right code), a transaction confirmation, the management page, adding a phone,
setting up an app, recovery codes, an error page and the SMS inbox. It calls
``visit(page, name)`` on each page it reaches; then it crawls every same-site link under
otpgate's URL prefix that it has not visited yet, so pages added later are covered by a link
from the management page. Codes are read from the dev inbox's JSON API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

Visit = Callable[[Any, str], None]

DJANGO_PHONE = "+33612345678"
FLASK_PHONE = "+447911123456"
#: A second mobile number the tour adds (then leaves unverified).
NEW_PHONE = "+33 6 98 76 54 32"
#: Links the crawl never follows: they sign out or change state.
SKIP = re.compile(r"logout|cancel|remove|/api/", re.IGNORECASE)


#: Submits a form the page does not offer, with the page's CSRF field: the error page.
BAD_POST = """([url, csrf, name]) => { const form = document.createElement('form');
  form.method = 'post'; form.action = url;
  const token = document.querySelector(`input[name=${csrf}]`).cloneNode();
  const field = document.createElement('input'); field.name = name; field.value = 'no-such-factor';
  form.append(token, field); document.body.append(form); form.submit(); }"""

#: The fields a form would send (its submit button's aside), to send them again later.
FIELDS = "(form) => Array.from(new FormData(form))"
#: Send ``fields`` to ``url`` again, as a reload of the page a POST answered does.
RESUBMIT = """([url, fields]) => { const form = document.createElement('form');
  form.method = 'post'; form.action = url;
  for (const [name, value] of fields) { const field = document.createElement('input');
    field.type = 'hidden'; field.name = name; field.value = value; form.append(field); }
  document.body.append(form); form.submit(); }"""


def latest_code(inbox: str, number: str) -> str:
    """The code of the newest SMS to ``number`` in the dev inbox."""
    answer = httpx.get(f"{inbox}/api/messages/latest", params={"to": number}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["code"])


def key(url: str) -> str:
    """A URL's path and query: what the crawl visits once."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


class Tour:
    """One walk through the demo's pages in one language (``lang``: a language code)."""

    def __init__(self, page: Any, sites: dict[str, str], inbox: str, visit: Visit) -> None:
        self.page = page
        self.sites = sites
        self.inbox = inbox
        self.visit = visit
        self.seen: set[str] = set()
        self.links: list[tuple[str, str]] = []

    def _visit(self, name: str, prefix: str) -> None:
        page = self.page
        page.wait_for_load_state()
        self.seen.add(key(page.url))
        self.visit(page, name)
        for href in page.locator("a[href]").evaluate_all("(as) => as.map(a => a.href)"):
            url = urljoin(page.url, href)
            if url.startswith(prefix) and not SKIP.search(url):
                self.links.append((name, url))

    def _crawl(self, prefix: str, label: str) -> None:
        """Every link under ``prefix`` found on the visited pages, visited once."""
        while self.links:
            _, url = self.links.pop(0)
            if key(url) in self.seen:
                continue
            self.seen.add(key(url))
            response = self.page.goto(url)
            assert response is not None and response.status < 500, (url, response)
            slug = re.sub(r"[^a-z0-9]+", "-", key(url).lower()).strip("-") or "home"
            self._visit(f"{label}-link-{slug}", prefix)

    def django(self, lang: str) -> None:
        page, base = self.page, self.sites["django"]
        prefix = base + "/account/2fa/"
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
        page.goto(base + "/transfer/")
        self._visit("django-sign-in", prefix)
        page.locator("input[name=username]").fill("alice")
        page.locator("input[name=password]").fill("otpgate-demo")
        page.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/verify/.*"))
        if page.locator("button[value=send]").count():
            page.locator("button[value=send]").click()
            page.locator("#otpgate-code").wait_for()
        self._visit("django-second-step-sms", prefix)
        code = latest_code(self.inbox, DJANGO_PHONE)
        page.locator("#otpgate-code").fill(wrong(code))
        page.locator("button[value=verify]").click()
        page.locator(".otpgate-error").wait_for()
        self._visit("django-second-step-wrong-code", prefix)
        page.locator("#otpgate-code").fill(code)
        page.locator("button[value=verify]").click()
        page.wait_for_url(base + "/transfer/")
        page.locator("button[type=submit]").click()
        page.locator("#otpgate-cancel").wait_for()
        self._visit("django-transaction-confirmation", prefix)
        page.goto(prefix)
        self._visit("django-manage", prefix)
        page.locator("a[href*='/phone/'][href$='/remove/']").first.click()
        page.locator("#otpgate-remove").wait_for()
        self._visit("django-phone-remove", prefix)
        page.goto(prefix + "phone/add/")
        self._visit("django-phone-add", prefix)
        page.locator("#otpgate-phone").fill(NEW_PHONE)
        page.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/phone/verify/.*"))
        self._visit("django-phone-verify", prefix)
        page.goto(prefix + "app/")
        if page.locator("button[value=start]").count():  # else a set-up is already under way
            self._visit("django-app-start", prefix)
            page.locator("button[value=start]").click()
        page.locator(".otpgate-qr svg").wait_for()
        self._visit("django-app-qr", prefix)
        page.goto(prefix + "recovery/")
        self._visit("django-recovery", prefix)
        form = page.locator("form:has(button[value=generate])")
        sent = [*form.evaluate(FIELDS), ["action", "generate"]]
        page.locator("button[value=generate]").click()
        page.locator("#otpgate-codes").wait_for()
        self._visit("django-recovery-codes", prefix)
        with page.expect_navigation():  # a reload: the same form again makes no codes
            page.evaluate(RESUBMIT, [prefix + "recovery/", sent])
        page.locator("#otpgate-already-shown").wait_for()
        self._visit("django-recovery-already-shown", prefix)
        stale = [field for field in sent if field[0] != "once"]  # a template without the token
        with page.expect_navigation():
            page.evaluate(RESUBMIT, [prefix + "recovery/", stale])
        page.locator("#otpgate-form-stale").wait_for()
        self._visit("django-recovery-stale", prefix)
        page.goto(prefix + "recovery/")  # a page with a form: its CSRF token
        with page.expect_navigation():
            page.evaluate(BAD_POST, [prefix + "preferred/", "csrfmiddlewaretoken", "factor"])
        page.locator("#otpgate-error p").wait_for()
        self._visit("django-error", prefix)
        self._crawl(prefix, "django")

    def flask(self, lang: str) -> None:
        page, base = self.page, self.sites["flask"]
        prefix = base + "/otp/"
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "lang", "value": lang, "url": base}])
        page.goto(base + "/transfer")
        self._visit("flask-sign-in", prefix)
        page.locator("#username").fill("alice")
        page.locator("#password").fill("demo-password")
        page.locator("button[type=submit]").click()
        page.wait_for_url("**/otp/verify*")
        self._visit("flask-second-step", prefix)
        page.locator("form[action$='/otp/verify/send'] button").first.click()
        page.locator("#otpgate-code").wait_for()
        self._visit("flask-second-step-sms", prefix)
        code = latest_code(self.inbox, FLASK_PHONE)
        page.locator("#otpgate-code").fill(wrong(code))
        page.locator("form[action$='/otp/verify'] button[type=submit]").click()
        page.locator("#otpgate-error:not(:empty)").wait_for()
        self._visit("flask-second-step-wrong-code", prefix)
        page.locator("#otpgate-code").fill(code)
        page.locator("form[action$='/otp/verify'] button[type=submit]").click()
        page.wait_for_url(base + "/transfer")
        page.locator("#payee").fill("Bob Martin")
        page.locator("#amount").fill("250")
        page.locator("main form button[type=submit]").first.click()
        page.locator("#otpgate-code").wait_for()
        self._visit("flask-transaction-confirmation", prefix)
        page.goto(prefix)
        self._visit("flask-manage", prefix)
        page.goto(prefix + "phone/remove?index=0")
        page.locator("#otpgate-remove").wait_for()
        self._visit("flask-phone-remove", prefix)
        page.goto(prefix + "phone")
        self._visit("flask-phone-add", prefix)
        page.locator("#otpgate-phone").fill("+44 7700 900123")  # fictional: refused
        page.locator("#otpgate-phone").press("Enter")
        page.locator("#otpgate-error:not(:empty)").wait_for()
        self._visit("flask-phone-refused", prefix)
        page.locator("#otpgate-phone").fill("+44 7400 123456")
        page.locator("#otpgate-phone").press("Enter")
        page.locator("#otpgate-code").wait_for()
        self._visit("flask-phone-verify", prefix)
        page.goto(prefix)
        page.locator("form[action$='/otp/totp'] button").click()
        page.locator("figure svg").wait_for()
        self._visit("flask-app-qr", prefix)
        page.goto(prefix)
        sent = page.locator("form[action$='/otp/recovery']").evaluate(FIELDS)
        page.locator("form[action$='/otp/recovery'] button").click()
        page.locator("ol.codes").wait_for()
        self._visit("flask-recovery-codes", prefix)
        with page.expect_navigation():  # a reload: the same form again makes no codes
            page.evaluate(RESUBMIT, [prefix + "recovery", sent])
        page.locator("#otpgate-already-shown").wait_for()
        self._visit("flask-recovery-already-shown", prefix)
        stale = [field for field in sent if field[0] != "once"]  # a template without the token
        with page.expect_navigation():
            page.evaluate(RESUBMIT, [prefix + "recovery", stale])
        page.locator("#otpgate-form-stale").wait_for()
        self._visit("flask-recovery-stale", prefix)
        page.goto(prefix + "recovery")  # a link to a POST-only URL: the 405 page
        self._visit("flask-wrong-method", prefix)
        page.goto(prefix)
        with page.expect_navigation():
            page.evaluate(BAD_POST, [prefix + "preferred", "csrf_token", "factor"])
        page.locator("#otpgate-error:not(:empty)").wait_for()
        self._visit("flask-error", prefix)
        self._crawl(prefix, "flask")

    def inbox_page(self, lang: str) -> None:
        self.page.goto(self.inbox + "/?lang=" + lang.split("-")[0])
        self.page.locator("main, body").first.wait_for()
        self.visit(self.page, "inbox")
