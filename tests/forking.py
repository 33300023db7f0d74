"""Running a function in a forked child, for fork-safety tests."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any


def in_child(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a forked child; its JSON result (or error) comes back."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(read_end)
        try:
            payload = {"result": fn()}
        except BaseException as err:  # noqa: BLE001 - reported to the parent
            payload = {"error": f"{type(err).__name__}: {err}"}
        with os.fdopen(write_end, "w") as out:
            json.dump(payload, out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as incoming:
        payload = json.load(incoming)
    os.waitpid(pid, 0)
    assert "error" not in payload, payload["error"]
    return payload["result"]
