"""``async_sessionmaker``: a configured factory of ``AsyncSession`` objects."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from ..factory import SessionFactory
from .session import AsyncSession

_S = TypeVar("_S", bound=AsyncSession)


class async_sessionmaker(SessionFactory[_S]):  # noqa: N801 - SQLAlchemy's name
    """::

        Session = async_sessionmaker(async_engine, expire_on_commit=False)
        async with Session() as session: ...
        async with Session.begin() as session: ...   # commits, or rolls back on error

    Calling it with keywords overrides the configured ones (see
    :class:`session_ext.factory.SessionFactory`).
    """

    def __init__(
        self,
        bind: Any = None,
        *,
        class_: type[_S] = AsyncSession,  # type: ignore[assignment]
        autoflush: bool = True,
        expire_on_commit: bool = True,
        info: dict[Any, Any] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(bind, class_, autoflush, expire_on_commit, info, kw)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[_S]:
        """A new session inside a transaction: committed at the end of the block,
        rolled back if it raises (or is cancelled), and closed either way."""
        async with self() as session, session.begin():
            yield session
