#!/usr/bin/env python3
"""Render the HTML report of the sample report used by the tests and screenshot it with headless Chromium.

Usage (from the repository root):

    .venv/bin/python scripts/screenshot-html.py [OUT.png] [--html FILE] [--chromium PATH]

OUT.png defaults to docs/report-html.png. ``--html FILE`` screenshots an existing page instead of
the sample (e.g. the output of ``piachange report --format html``). Chromium on Debian/Ubuntu:
``apt-get install chromium fonts-noto-cjk`` (the fonts are needed for Japanese text).
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
WINDOW = "1400,1000"


def sample_html() -> bytes:
    """Return the built-in HTML rendering of the fixed sample report in tests/test_render.py."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_render import sample_report  # noqa: E402  (the tests own the sample data)

    from piachange import render

    return render.render(sample_report(), "html")


def screenshot(html: pathlib.Path, out: pathlib.Path, chromium: str) -> None:
    """Write a PNG of ``html`` as Chromium shows it in a WINDOW-sized window."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={out}",
            f"--window-size={WINDOW}", html.resolve().as_uri(),
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    if done.returncode != 0 or not out.exists():
        sys.exit(f"Error: chromium failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def main() -> None:
    """Parse arguments, render the page if needed, take the screenshot."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", default=str(ROOT / "docs" / "report-html.png"))
    p.add_argument("--html", help="screenshot this page instead of the sample report")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    args = p.parse_args()
    if not pathlib.Path(args.chromium).exists():
        sys.exit(f"Error: {args.chromium} not found (apt-get install chromium fonts-noto-cjk)")
    out = pathlib.Path(args.out).resolve()
    out.unlink(missing_ok=True)
    if args.html:
        screenshot(pathlib.Path(args.html), out, args.chromium)
        return
    with tempfile.TemporaryDirectory() as tmp:
        page = pathlib.Path(tmp) / "report.html"
        page.write_bytes(sample_html())
        screenshot(page, out, args.chromium)


if __name__ == "__main__":
    main()
