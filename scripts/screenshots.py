#!/usr/bin/env python3
"""Screenshots of every otpgate page, at 375 and 1280 px, for review (the docs' pages gallery).

    python scripts/screenshots.py [--out docs/_build/gallery] [--lang en] [--lang zh-hans]

Starts ``otpgate demo`` (the Django site, the Flask bank and the SMS inbox) on free loopback
ports, walks its pages in Debian's chromium with ``tests.pages.Tour`` (the accessibility
audit's tour) and writes ``<lang>-<page>-<width>.png`` and an ``index.html`` that shows them
side by side. Needs ``pip install "otpgate[demo]" playwright`` and /usr/bin/chromium. The
images are for people to look at: nothing compares them pixel by pixel.
"""

from __future__ import annotations

import argparse
import html
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.a11y import WIDTHS  # noqa: E402
from tests.browser import ARGS, CHROMIUM  # noqa: E402
from tests.demo.running import RunningDemo  # noqa: E402
from tests.pages import Tour  # noqa: E402


def take(out: Path, langs: list[str]) -> list[Path]:
    """Every page of the tour, in each language, at each width, as PNGs in ``out``."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as work:
        demo = RunningDemo(cwd=Path(work))
        try:
            demo.wait_ready()
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = chromium.new_page()
                page.set_default_timeout(30_000)
                for lang in langs:

                    def visit(tab: Any, name: str, lang: str = lang) -> None:
                        for width in WIDTHS:
                            tab.set_viewport_size({"width": width, "height": 800})
                            path = out / f"{lang}-{name}-{width}.png"
                            tab.screenshot(path=str(path), full_page=True)
                            shots.append(path)
                        tab.set_viewport_size({"width": 1280, "height": 800})

                    tour = Tour(page, demo.sites, demo.inbox, visit)
                    tour.django(lang)
                    tour.flask(lang)
                    tour.inbox_page(lang)
                chromium.close()
        finally:
            demo.kill()
    write_index(out, shots)
    return shots


def write_index(out: Path, shots: list[Path]) -> None:
    """An HTML page showing each page at both widths, in the order the tour met them."""
    rows = []
    for narrow in [shot for shot in shots if shot.stem.endswith(f"-{WIDTHS[0]}")]:
        name = narrow.stem.rsplit("-", 1)[0]
        cells = "".join(
            f'<a href="{name}-{width}.png"><img src="{name}-{width}.png" alt="{name} at'
            f' {width} px" width="{min(width, 640) // 2}"></a>'
            for width in WIDTHS
        )
        rows.append(f"<section><h2>{html.escape(name)}</h2>{cells}</section>")
    (out / "index.html").write_text(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>otpgate pages</title>'
        "<style>img{border:1px solid #ccc;margin:0 8px 8px 0;vertical-align:top}</style>"
        "<h1>otpgate pages at " + " and ".join(f"{w} px" for w in WIDTHS) + "</h1>" + "".join(rows),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "_build" / "gallery")
    parser.add_argument("--lang", action="append", help="a language code (default: en)")
    args = parser.parse_args(argv)
    shots = take(args.out, args.lang or ["en"])
    print(f"{len(shots)} screenshots in {args.out} (open index.html)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
