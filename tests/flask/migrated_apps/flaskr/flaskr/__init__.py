"""flaskr: a small blog with users, as Flask-SQLAlchemy 3.1 ships it as an
example, moved to session_ext by changing its imports and config names."""

import os

import click
from flask import Flask
from flask.cli import with_appcontext

from session_ext import DeclarativeBase  # was: from sqlalchemy.orm import DeclarativeBase
from session_ext.flask import SessionExt  # was: from flask_sqlalchemy import SQLAlchemy

__version__ = (1, 1, 0, "dev")



class Base(DeclarativeBase):
    pass


db = SessionExt(model_class=Base)  # was: SQLAlchemy(model_class=Base)


def create_app(test_config=None):
    """The application factory."""
    app = Flask(__name__, instance_relative_config=True)

    # a deployment may give the database URL in the environment
    db_url = os.environ.get("DATABASE_URL")
    if db_url is None:
        # otherwise a SQLite file in the instance folder
        db_url = "sqlite:///flaskr.sqlite"

    app.config.from_mapping(
        # a development key: deployments set their own
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev"),
        SESSION_EXT_DATABASE_URI=db_url,  # was: SQLALCHEMY_DATABASE_URI
    )

    if test_config is None:
        # the instance folder's config.py, when there is one
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.update(test_config)

    db.init_app(app)
    app.cli.add_command(init_db_command)

    from flaskr import auth, blog

    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)

    # "/" is the blog's index page
    app.add_url_rule("/", endpoint="index")

    return app


def init_db():
    """Drop and re-create every table."""
    db.drop_all()
    db.create_all()


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Remove all data and create the tables again."""
    init_db()
    click.echo("Initialized the database.")
