"""Finding the browser for the end-to-end tests (shared by conftest and tests).

The browser is Debian's ``chromium`` package, driven by the ``playwright``
Python package with ``executable_path``: Playwright never downloads a browser
here.  When either is missing the tests skip with a reason starting with
:data:`E2E_SKIP_PREFIX`, which ``conftest.py`` turns into a loud banner.
"""

from __future__ import annotations

import shutil

E2E_SKIP_PREFIX = "E2E BROWSER TESTS SKIPPED"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return shutil.which("chromium")


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return (
            f"{E2E_SKIP_PREFIX}: the playwright package is not installed ({err}); "
            "pip install -e '.[test]'"
        )
    if chromium_path() is None:
        return (
            f"{E2E_SKIP_PREFIX}: no `chromium` on PATH. Install Debian's packages: "
            "apt-get install chromium chromium-driver (./dev test does it when run as root)"
        )
    return None
