"""Deprecated home of the Flask test plugin, now :mod:`session_ext.flask.testing`.

Kept so that an installed ``pytest11`` entry point or a conftest's
``pytest_plugins = ["session_ext.testing"]`` naming this module keeps
working: pytest loads the plugins a plugin module lists in
``pytest_plugins``.  Name ``session_ext.flask.testing`` in new code.

This module stays in the framework-free core, so it only names the adapter's
plugin and imports nothing of it.
"""

from __future__ import annotations

pytest_plugins = ["session_ext.flask.testing"]
