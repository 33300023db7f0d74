from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.security import check_password_hash, generate_password_hash

from flaskr import db
from session_ext import Mapped, mapped_column, relationship  # was: from sqlalchemy.orm import ...

if TYPE_CHECKING:
    from ..blog.models import Post


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(unique=True)
    password_hash: Mapped[str]
    posts: Mapped[list[Post]] = relationship("Post", back_populates="author")

    def set_password(self, value: str) -> None:
        """Keep only a hash of the password."""
        self.password_hash = generate_password_hash(value)

    # User(password="...") and user.password = "..." store the hash
    password = property(fset=set_password)

    def check_password(self, value: str) -> bool:
        return check_password_hash(self.password_hash, value)
