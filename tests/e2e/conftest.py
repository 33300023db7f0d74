"""End-to-end tests: the example app in a real, headless Chromium.

``./dev test`` installs Debian's ``chromium`` when it is missing and it can
(root with apt-get); when the binary is truly absent the tests skip and the
run ends with a loud banner saying so.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from browser_support import E2E_SKIP_PREFIX, skip_reason


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = [
        rep
        for rep in terminalreporter.stats.get("skipped", [])
        if E2E_SKIP_PREFIX in str(getattr(rep, "longrepr", ""))
    ]
    if not skipped:
        return
    terminalreporter.write_sep("!", f"{len(skipped)} browser (e2e) tests SKIPPED", red=True)
    terminalreporter.write_line("!!! " + (skip_reason() or E2E_SKIP_PREFIX), red=True, bold=True)
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        terminalreporter.write_line(
            "!!! CI=true: THIS CI RUN DID NOT TEST THE EXAMPLE APP IN A BROWSER.",
            red=True,
            bold=True,
        )
