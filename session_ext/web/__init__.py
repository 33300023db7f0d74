"""The framework-free web layer the Flask and Django adapters share.

One module per idea; the adapters only add what their framework decides
(where request arguments come from, how a 404 is raised, where the state
lives):

* :mod:`.client_input` -- text from a URL or a form turned into a primary key;
* :mod:`.not_found` -- "no such row" for views, as :class:`NotFound`;
* :mod:`.pages` -- ``page``/``per_page`` arguments checked, a page fetched;
* :mod:`.naming` -- default table names from class names;
* :mod:`.binds` -- ``__bind_key__`` models and tables turned into the core
  session's ``binds=``;
* :mod:`.schema` -- choosing binds, ``create_all``/``drop_all`` per bind and
  the database check of the command-line tools.

Nothing here imports Flask or Django.
"""

from __future__ import annotations

from .client_input import MAX_INT64, MIN_INT64, get_from_client, identity_from_client

__all__ = ["MAX_INT64", "MIN_INT64", "get_from_client", "identity_from_client"]
