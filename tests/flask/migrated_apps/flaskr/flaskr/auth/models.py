from werkzeug.security import check_password_hash, generate_password_hash

from flaskr import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String, unique=True, nullable=False)
    password_hash = db.Column(db.String, nullable=False)
    posts = db.relationship("Post", back_populates="author")

    def set_password(self, value: str) -> None:
        """Keep only a hash of the password."""
        self.password_hash = generate_password_hash(value)

    # User(password="...") and user.password = "..." store the hash
    password = property(fset=set_password)

    def check_password(self, value: str) -> bool:
        return check_password_hash(self.password_hash, value)
