"""Checks shared by the Django and Flask browser tests of a site's own layout (issue 15):
otpgate's pages inside the test sites' ``acme/base.html``."""

from __future__ import annotations

from typing import Any

from tests.a11y import WIDTHS, describe, serious

#: The site's own look (acme/base.html) and otpgate's (otpgate/_style.html); ``%s`` is the
#: selector of otpgate's card.
_STYLES = """() => {
  const style = (selector) => getComputedStyle(document.querySelector(selector));
  return {
    nav: style("nav.acme-nav").backgroundColor,
    signOut: style("#acme-sign-out").backgroundColor,
    signOutVisible: document.querySelector("#acme-sign-out").getBoundingClientRect().width > 0,
    card: style("%s").borderTopLeftRadius,
    cardBackground: style("%s").backgroundColor,
    body: style("body").fontFamily,
    sideways: document.documentElement.scrollWidth > window.innerWidth,
  };
}"""


def check_page(tab: Any, name: str, found: dict[str, str], *, card: str) -> None:
    """At each width: inside the site, styled, no sideways scrolling, no serious violation."""
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": 900})
        shown = tab.evaluate(_STYLES % (card, card))
        assert shown["nav"] == "rgb(27, 27, 27)" and shown["signOutVisible"], (name, width)
        assert shown["signOut"] == "rgba(0, 0, 0, 0)", (name, width)  # the site's, not otpgate's
        assert shown["card"] == "12px" and shown["cardBackground"] == "rgb(255, 255, 255)"
        assert "Georgia" in shown["body"], (name, width)  # otpgate left the site's body alone
        assert not shown["sideways"], (name, width)
        bad = serious(tab)
        if bad:
            found[f"{name} at {width} px"] = describe(bad)
