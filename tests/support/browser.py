"""Headless Chromium (Debian's) and the axe-core audit, shared by the browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Where a Chromium may be: the variable first, then the names distributions give it.
CHROMIUM_ENV = "SOESMART_TEST_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def find_chromium() -> Path | None:
    """The Chromium to test with: $SOESMART_TEST_CHROMIUM, else the first on PATH or in
    /usr/bin, /usr/lib/chromium, /snap/bin; None when there is none."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return Path(named)
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/usr/lib/chromium", "/snap/bin"])
    for name in CHROMIUM_NAMES:
        found = shutil.which(name, path=search)
        if found:
            return Path(found)
    return None


@contextmanager
def chromium(executable: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def axe_violations(page: Any, axe_script: str) -> list[dict[str, Any]]:
    """What axe-core finds against WCAG 2.0/2.1 A and AA on the page as it is now."""
    page.evaluate(axe_script)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '')!r}")
    return "\n".join(lines)


def duplicate_ids(page: Any) -> list[str]:
    """Ids used more than once (labels and anchors rely on them; axe 4.x no longer checks it)."""
    return list(page.evaluate(
        "() => { const seen = {}; for (const e of document.querySelectorAll('[id]'))"
        " seen[e.id] = (seen[e.id] || 0) + 1;"
        " return Object.keys(seen).filter(id => seen[id] > 1); }"
    ))


def assert_accessible(page: Any, axe_script: str) -> None:
    violations = axe_violations(page, axe_script)
    assert not violations, f"{page.url}:\n{describe(violations)}"
    duplicates = duplicate_ids(page)
    assert not duplicates, f"{page.url}: duplicate ids {duplicates}"
