"""``async_sessionmaker``: a configured factory of ``AsyncSession`` objects."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

from .session import AsyncSession

_S = TypeVar("_S", bound=AsyncSession)


class async_sessionmaker(Generic[_S]):  # noqa: N801 - SQLAlchemy's name
    """::

        Session = async_sessionmaker(async_engine, expire_on_commit=False)
        async with Session() as session: ...
        async with Session.begin() as session: ...   # commits, or rolls back on error

    Keywords given when calling the factory override the configured ones;
    ``info`` dicts are merged into a fresh dict for each session.
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
        kw["bind"] = bind
        kw["autoflush"] = autoflush
        kw["expire_on_commit"] = expire_on_commit
        if info is not None:
            kw["info"] = info
        self.kw = kw
        self.class_ = class_

    def __call__(self, **local_kw: Any) -> _S:
        if not local_kw:
            return self.class_(**self.kw)
        kw = {**self.kw, **local_kw}
        if "info" in local_kw and "info" in self.kw:
            kw["info"] = {**self.kw["info"], **local_kw["info"]}
        return self.class_(**kw)

    def configure(self, **new_kw: Any) -> None:
        """Change the configuration for sessions created from now on."""
        self.kw.update(new_kw)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[_S]:
        """A new session inside a transaction: committed at the end of the block,
        rolled back if it raises (or is cancelled), and closed either way."""
        async with self() as session, session.begin():
            yield session

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kw.items())
        return f"{type(self).__name__}(class_={self.class_.__name__}, {args})"
