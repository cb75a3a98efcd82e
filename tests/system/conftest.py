"""Fixtures of the browser tests: one headless Chromium and axe-core per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM_ENV, CHROMIUM_NAMES, chromium, find_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = find_chromium()
    if executable is None:
        pytest.skip(f"no Chromium found (${CHROMIUM_ENV}, {', '.join(CHROMIUM_NAMES)} on PATH;"
                    " apt-get install chromium)")
    with chromium(executable) as launched:
        yield launched


@pytest.fixture(scope="module")
def axe_script() -> str:
    axe = pytest.importorskip("axe_playwright_python", reason="axe-playwright-python ships axe-core")
    return (Path(axe.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The network with a real OpenID provider (oidc-provider) and a crafted one, started once
    for every module that signs in through a provider."""
    from tests.support.oidc_network import oidc_world

    with oidc_world(tmp_path_factory.mktemp("oidc")) as world:
        yield world
