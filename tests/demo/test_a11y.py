"""axe-core over every otpgate page that ``otpgate demo`` serves (the Django site, the Flask
bank, the SMS inbox), in each language of ``tests.a11y.LANGUAGES`` at 375 and 1280 px: no
violation of impact serious or critical. The pages come from ``tests.pages.Tour``, which also
follows every link under otpgate's URL prefix, so new pages join the audit by themselves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.a11y import LANGUAGES, WIDTHS, describe, serious
from tests.demo.running import RunningDemo
from tests.pages import Tour

pytest.importorskip("playwright")
for module in ("django", "flask", "flask_login", "fastapi", "uvicorn"):
    pytest.importorskip(module, reason='otpgate demo needs pip install "otpgate[demo]"')


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[RunningDemo]:
    running = RunningDemo(cwd=tmp_path_factory.mktemp("demo-a11y"))
    try:
        yield running.wait_ready()
    finally:
        running.kill()


def audit_tour(demo: RunningDemo, page: Any, walk: str, lang: str) -> list[str]:
    found: dict[str, str] = {}
    langs: set[tuple[str, str]] = set()
    names: list[str] = []

    def visit(tab: Any, name: str) -> None:
        names.append(name)
        shown = tab.locator("html").get_attribute("lang") or ""
        langs.add((name, shown.lower().split("-")[0]))
        for width in WIDTHS:
            tab.set_viewport_size({"width": width, "height": 900})
            bad = serious(tab)
            if bad:
                found[f"{name} at {width} px ({tab.url})"] = describe(bad)
        tab.set_viewport_size({"width": 1280, "height": 900})

    tour = Tour(page, demo.sites, demo.inbox, visit)
    getattr(tour, walk)(lang)
    assert not found, "\n".join(f"{where}:\n{text}" for where, text in found.items())
    other = {  # the sites' own sign-in pages are in English; otpgate's follow the user
        (name, shown)
        for name, shown in langs
        if shown != lang.split("-")[0] and not name.endswith("sign-in")
    }
    assert not other, f"pages not in {lang}: {sorted(other)}"  # the audit saw the language
    return names


@pytest.mark.parametrize("lang", LANGUAGES)
def test_django_pages_have_no_serious_violation(demo, page, lang):
    names = audit_tour(demo, page, "django", lang)
    assert {"django-second-step-sms", "django-app-qr", "django-recovery-codes"} <= set(names)
    assert "django-phone-remove" in names


@pytest.mark.parametrize("lang", LANGUAGES)
def test_flask_pages_have_no_serious_violation(demo, page, lang):
    names = audit_tour(demo, page, "flask", lang)
    assert {"flask-second-step-sms", "flask-app-qr", "flask-recovery-codes"} <= set(names)
    assert "flask-phone-remove" in names


#: The dev inbox speaks every shipped language: audited in the two of the audit, and Chinese.
INBOX_LANGUAGES = (*LANGUAGES, "zh-hans")


@pytest.mark.parametrize("lang", INBOX_LANGUAGES)
def test_the_sms_inbox_has_no_serious_violation(demo, page, lang):
    assert audit_tour(demo, page, "inbox_page", lang) == ["inbox"]


def test_the_audit_finds_serious_violations(page):
    """The audit itself: a field without a label and an image without a text alternative."""
    page.set_content(
        "<!doctype html><html lang='en'><title>t</title><main><img src='data:,'>"
        "<input type='text'></main></html>"
    )
    rules = {item["id"] for item in serious(page)}
    assert {"image-alt", "label"} <= rules, rules
    assert "label" in describe(serious(page))
