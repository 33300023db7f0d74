"""todo: a one-file to-do list, as Flask-SQLAlchemy 3.1 ships it as an
example, moved to session_ext by changing its imports only (session_ext reads
the ``SQLALCHEMY_DATABASE_URI`` key when ``SESSION_EXT_DATABASE_URI`` is not
set)."""

from datetime import UTC, datetime

from flask import Flask, flash, redirect, render_template, request, url_for

from session_ext import (  # was: from sqlalchemy.orm import ...
    DeclarativeBase,
    Mapped,
    mapped_column,
)
from session_ext.flask import SessionExt  # was: from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.secret_key = "a development key: set your own"
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///todo.sqlite"



class Base(DeclarativeBase):
    pass


db = SessionExt(app, model_class=Base)  # was: SQLAlchemy(app, model_class=Base)


def now_utc() -> datetime:
    return datetime.now(UTC)


class Todo(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    text: Mapped[str]
    done: Mapped[bool] = mapped_column(default=False)
    pub_date: Mapped[datetime] = mapped_column(default=now_utc)


with app.app_context():
    db.create_all()


@app.route("/")
def show_all():
    select = db.select(Todo).order_by(Todo.pub_date.desc())
    todos = db.session.execute(select).scalars()
    return render_template("show_all.html", todos=todos)


@app.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "POST":
        if not request.form["title"]:
            flash("Title is required", "error")
        elif not request.form["text"]:
            flash("Text is required", "error")
        else:
            todo = Todo(title=request.form["title"], text=request.form["text"])
            db.session.add(todo)
            db.session.commit()
            flash("Todo item was successfully created")
            return redirect(url_for("show_all"))

    return render_template("new.html")


@app.route("/update", methods=["POST"])
def update_done():
    for todo in db.session.execute(db.select(Todo)).scalars():
        todo.done = f"done.{todo.id}" in request.form

    flash("Updated status")
    db.session.commit()
    return redirect(url_for("show_all"))
