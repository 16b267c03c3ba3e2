"""The headless Chromium of the report tests (it lives in the package so the screenshot script can use it too),
and the module-scoped `browser` fixture the report test files import."""
import pytest

from pipelines.reports.chromium import INSTALL_HINT, Browser, find_chromium

__all__ = ["INSTALL_HINT", "Browser", "find_chromium", "browser"]


@pytest.fixture(scope="module")
def browser():
    try:
        find_chromium()
    except RuntimeError:
        pytest.fail(INSTALL_HINT)
    with Browser() as b:
        yield b
