"""Django's side of the web layer: request arguments in, ``Http404`` out.

The rules live in :mod:`session_ext.web` (which page, which row); this
module only reads ``request.GET`` and turns
:class:`~session_ext.web.not_found.NotFound` into ``Http404`` with its
message.  It imports nothing else of the adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest

from ..web.not_found import NotFound
from ..web.pages import no_request


def arguments_of(request: HttpRequest | None) -> Callable[[str], Any]:
    """``read_arg`` for the web layer: ``request.GET`` (none without a request)."""
    if request is None:
        return no_request
    return request.GET.get


def http404(err: NotFound) -> Http404:
    """The ``Http404`` that answers ``err`` (the caller's message, else what is missing)."""
    return Http404(err.message)
