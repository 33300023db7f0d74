"""SQLAlchemy's "Cascades" page (doc/build/orm/cascades.rst) as a program of
our own text, run on ``sqlalchemy.orm`` and on session_ext with only the import
lines changed (see tests/doc_programs.py).

Sections covered, in page order: configuring ``cascade=`` (also through
``backref()``); save-update (``add()`` and collection changes reaching related
objects, an object removed from a detached parent's collection following it
into a new session); save-update with bi-directional relationships (classes
mapped with ``registry.map_imperatively``: appending cascades, assigning the
many-to-one does not); delete (with ``all, delete`` and the default SET NULL);
delete with many-to-many; ON DELETE CASCADE with ``passive_deletes=True`` and
``passive_deletes="all"`` (SQLite with foreign keys on, PostgreSQL); a NOT NULL
foreign key refusing the SET NULL; ON DELETE CASCADE on a many-to-many
association table; delete-orphan; merge; refresh-expire; expunge; the notes on
deleting objects referenced from collections and scalar relationships
(``single_parent=True``). Nothing of the page remains.
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both

PROGRAM = '''
from __future__ import annotations

from typing import List, Optional

from sqlalchemy import Column, ForeignKey, Integer, String, Table, event, func, inspect
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, backref, mapped_column
from sqlalchemy.orm import relationship


class Base(DeclarativeBase):
    pass


def state(obj):
    insp = inspect(obj)
    for name in ("transient", "pending", "persistent", "deleted", "detached"):
        if getattr(insp, name):
            return name
    return "?"


def loaded_keys(obj):
    return sorted(k for k in obj.__dict__ if not k.startswith("_"))


def raised(fn):
    try:
        fn()
    except Exception as err:
        return type(err).__name__
    return "ok"


def count(session, entity):
    return session.scalar(select(func.count()).select_from(entity))


# -- save-update, delete (and its absence), merge -----------------------------

class User(Base):
    __tablename__ = "cc_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), default="")
    addresses: Mapped[List[Address]] = relationship(back_populates="user")


class Address(Base):
    __tablename__ = "cc_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50), default="")
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cc_user.id"))
    user: Mapped[Optional[User]] = relationship(back_populates="addresses")


class Owner(Base):
    """``User`` of the delete section: ``cascade="all, delete"``."""

    __tablename__ = "cc_owner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), default="")
    addresses: Mapped[List[OwnedAddress]] = relationship(cascade="all, delete")


class OwnedAddress(Base):
    __tablename__ = "cc_owned_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50), default="")
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cc_owner.id"))


# -- cascade= configured on a relationship and through backref() ----------------

class Customer(Base):
    __tablename__ = "cc_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), default="")


class Order(Base):
    __tablename__ = "cc_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cc_customer.id"))
    items: Mapped[List[Item]] = relationship(cascade="all, delete-orphan")
    customer: Mapped[Optional[Customer]] = relationship(cascade="save-update")


class Item(Base):
    __tablename__ = "cc_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cc_order.id"))


class Basket(Base):
    __tablename__ = "cc_basket"

    id: Mapped[int] = mapped_column(primary_key=True)


class Fruit(Base):
    __tablename__ = "cc_fruit"

    id: Mapped[int] = mapped_column(primary_key=True)
    basket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cc_basket.id"))
    basket = relationship(
        "Basket", backref=backref("fruits", cascade="all, delete-orphan")
    )


# -- bi-directional, mapped imperatively ---------------------------------------

class Shipment:
    pass


class Parcel:
    pass


shipment_table = Table(
    "cc_shipment", Base.metadata, Column("id", Integer, primary_key=True)
)
parcel_table = Table(
    "cc_parcel",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("shipment_id", ForeignKey("cc_shipment.id")),
)
mapper_registry = Base.registry
mapper_registry.map_imperatively(
    Shipment,
    shipment_table,
    properties={"parcels": relationship(Parcel, back_populates="shipment")},
)
mapper_registry.map_imperatively(
    Parcel,
    parcel_table,
    properties={"shipment": relationship(Shipment, back_populates="parcels")},
)


# -- many-to-many with delete cascade on one side ------------------------------

association_table = Table(
    "cc_association",
    Base.metadata,
    Column("left_id", Integer, ForeignKey("cc_left.id")),
    Column("right_id", Integer, ForeignKey("cc_right.id")),
)


class Left(Base):
    __tablename__ = "cc_left"
    id = mapped_column(Integer, primary_key=True)
    children = relationship(
        "Right", secondary=association_table, back_populates="parents", cascade="all, delete"
    )


class Right(Base):
    __tablename__ = "cc_right"
    id = mapped_column(Integer, primary_key=True)
    parents = relationship("Left", secondary=association_table, back_populates="children")


# -- ON DELETE CASCADE with passive_deletes ------------------------------------

class Parent(Base):
    __tablename__ = "cc_parent"
    id = mapped_column(Integer, primary_key=True)
    children = relationship(
        "Child", back_populates="parent", cascade="all, delete", passive_deletes=True
    )


class Child(Base):
    __tablename__ = "cc_child"
    id = mapped_column(Integer, primary_key=True)
    parent_id = mapped_column(Integer, ForeignKey("cc_parent.id", ondelete="CASCADE"))
    parent = relationship("Parent", back_populates="children")


class Folder(Base):
    """passive_deletes="all": the database sets the key to NULL, the ORM leaves
    loaded children alone."""

    __tablename__ = "cc_folder"
    id = mapped_column(Integer, primary_key=True)
    files = relationship("File", passive_deletes="all")


class File(Base):
    __tablename__ = "cc_file"
    id = mapped_column(Integer, primary_key=True)
    folder_id = mapped_column(Integer, ForeignKey("cc_folder.id", ondelete="SET NULL"))


class Team(Base):
    """A NOT NULL foreign key catches the SET NULL of a deleted parent."""

    __tablename__ = "cc_team"
    id = mapped_column(Integer, primary_key=True)
    players = relationship("Player")


class Player(Base):
    __tablename__ = "cc_player"
    id = mapped_column(Integer, primary_key=True)
    team_id = mapped_column(Integer, ForeignKey("cc_team.id"), nullable=False)


passive_association = Table(
    "cc_passive_association",
    Base.metadata,
    Column("left_id", Integer, ForeignKey("cc_pleft.id", ondelete="CASCADE")),
    Column("right_id", Integer, ForeignKey("cc_pright.id", ondelete="CASCADE")),
)


class PLeft(Base):
    __tablename__ = "cc_pleft"
    id = mapped_column(Integer, primary_key=True)
    children = relationship(
        "PRight", secondary=passive_association, back_populates="parents",
        cascade="all, delete",
    )


class PRight(Base):
    __tablename__ = "cc_pright"
    id = mapped_column(Integer, primary_key=True)
    parents = relationship(
        "PLeft", secondary=passive_association, back_populates="children",
        passive_deletes=True,
    )


# -- delete-orphan, refresh-expire, expunge, single_parent ---------------------

class Account(Base):
    __tablename__ = "cc_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), default="")
    addresses: Mapped[List[Mailbox]] = relationship(cascade="all, delete-orphan")
    preference: Mapped[Optional[Preference]] = relationship(
        cascade="all, delete-orphan", single_parent=True
    )
    preference_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cc_preference.id"))


class Mailbox(Base):
    __tablename__ = "cc_mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50), default="")
    account_id: Mapped[int] = mapped_column(ForeignKey("cc_account.id"))


class Preference(Base):
    __tablename__ = "cc_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(20), default="light")


class Album(Base):
    __tablename__ = "cc_album"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(30), default="")
    photos: Mapped[List[Photo]] = relationship(cascade="save-update, refresh-expire, expunge")


class Photo(Base):
    __tablename__ = "cc_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    caption: Mapped[str] = mapped_column(String(30), default="")
    album_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cc_album.id"))


# -- the sections ----------------------------------------------------------------

def configuring(engine, seen):
    with Session(engine) as session:
        order = Order(items=[Item(), Item()], customer=Customer(name="c"))
        basket = Basket()
        cascades = {}
        for cls, key in ((Order, "items"), (Order, "customer"), (Fruit, "basket"),
                         (Basket, "fruits"), (User, "addresses"), (Left, "children")):
            prop = inspect(cls).relationships[key]
            cascades[f"{cls.__name__}.{key}"] = sorted(prop.cascade)
        seen["config.cascades"] = cascades
        basket.fruits.extend([Fruit(), Fruit()])
        session.add_all([order, basket])
        session.commit()
        del order.items[0]
        basket.fruits.pop()
        session.commit()
        seen["config.orphans_deleted"] = [count(session, Item), count(session, Fruit)]
        session.delete(order)
        session.delete(basket)
        session.commit()
        seen["config.deleted"] = [count(session, Item), count(session, Fruit),
                                  count(session, Customer)]


def save_update(engine, seen):
    user1 = User()
    address1, address2 = Address(), Address()
    user1.addresses = [address1, address2]

    sess = Session(engine)
    sess.add(user1)
    seen["save.added"] = [address1 in sess, address2 in sess, state(address1)]

    address3 = Address()
    user1.addresses.append(address3)
    seen["save.appended"] = [address3 in sess, state(address3)]
    sess.commit()
    sess.close()

    sess1 = Session(engine)
    user1 = sess1.scalars(select(User).filter_by(id=1)).first()
    address1 = user1.addresses[0]
    sess1.close()
    user1.addresses.remove(address1)
    sess2 = Session(engine)
    sess2.add(user1)
    seen["save.removed_follows"] = [address1 in sess2, state(address1)]
    sess2.commit()
    seen["save.after_commit"] = sess2.execute(
        select(Address.id, Address.user_id).order_by(Address.id)
    ).all()
    sess2.close()


def bidirectional(engine, seen):
    with Session(engine) as session:
        o1 = Shipment()
        session.add(o1)
        i1 = Parcel()
        o1.parcels.append(i1)
        seen["backref.append"] = [o1 in session, o1 is i1.shipment, i1 in session]

        o2 = Shipment()
        session.add(o2)
        i2 = Parcel()
        i2.shipment = o2
        seen["backref.assign"] = [o2 in session, i2 in o2.parcels, i2 in session]
        session.add(i2)
        session.commit()
        seen["backref.saved"] = session.execute(
            select(parcel_table.c.id, parcel_table.c.shipment_id).order_by(parcel_table.c.id)
        ).all()


def delete_cascade(engine, seen):
    with Session(engine) as sess:
        sess.add(Owner(id=1, name="owner", addresses=[OwnedAddress(email="a1"),
                                                       OwnedAddress(email="a2")]))
        sess.add(User(id=10, name="plain", addresses=[Address(email="p1"),
                                                       Address(email="p2")]))
        sess.commit()

    with Session(engine) as sess:
        user1 = sess.scalars(select(Owner).filter_by(id=1)).first()
        address1, address2 = user1.addresses
        sess.delete(user1)
        seen["delete.marked"] = [state(user1), state(address1), len(sess.deleted)]
        sess.flush()
        seen["delete.flushed"] = [state(user1), state(address1), state(address2)]
        sess.commit()
        seen["delete.rows"] = [count(sess, Owner), count(sess, OwnedAddress)]

    with Session(engine) as sess:
        user1 = sess.scalars(select(User).filter_by(id=10)).first()
        address1, address2 = user1.addresses
        sess.delete(user1)
        sess.commit()
        seen["delete.set_null"] = [state(address1), address1.user_id, sess.execute(
            select(Address.email, Address.user_id)
            .where(Address.email.in_(["p1", "p2"])).order_by(Address.email)
        ).all()]

    with Session(engine) as sess:
        plain = User(id=11, name="unloaded", addresses=[Address(email="u1")])
        sess.add(plain)
        sess.commit()
        sess.expire_all()
        sess.delete(sess.get(User, 11))
        sess.commit()
        seen["delete.set_null_unloaded"] = sess.execute(
            select(Address.user_id).where(Address.email == "u1")
        ).scalar_one()


def many_to_many(engine, seen):
    with Session(engine) as session:
        shared = Right(id=2)
        p1 = Left(id=1, children=[Right(id=1), shared])
        p2 = Left(id=2, children=[shared, Right(id=3)])
        session.add_all([p1, p2])
        session.commit()

    with Session(engine) as session:
        session.delete(session.get(Left, 1))
        session.commit()
        seen["m2m.rights"] = session.scalars(select(Right.id).order_by(Right.id)).all()
        seen["m2m.links"] = session.execute(
            select(association_table.c.left_id, association_table.c.right_id)
            .order_by(association_table.c.right_id)
        ).all()
        p2 = session.get(Left, 2)
        seen["m2m.survivor"] = [c.id for c in p2.children]


def passive_deletes(engine, seen):
    selects = []

    def count_selects(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    with Session(engine) as session:
        session.add_all([
            Parent(id=1, children=[Child(id=1), Child(id=2)]),
            Parent(id=2, children=[Child(id=3), Child(id=4)]),
        ])
        session.commit()

    with Session(engine) as session:
        loaded = session.get(Parent, 1)
        kids = list(loaded.children)
        unloaded = session.get(Parent, 2)
        stray = session.get(Child, 3)  # in the identity map, not through the collection
        session.delete(loaded)
        session.delete(unloaded)
        event.listen(engine, "before_cursor_execute", count_selects)
        try:
            session.flush()
        finally:
            event.remove(engine, "before_cursor_execute", count_selects)
        seen["passive.selects_in_flush"] = len(selects)
        seen["passive.loaded_children"] = [state(k) for k in kids]
        seen["passive.stray_child"] = [state(stray), "children" in inspect(unloaded).unloaded]
        session.commit()
        seen["passive.rows"] = [count(session, Parent), count(session, Child)]

    with Session(engine) as session:
        session.add(Folder(id=1, files=[File(id=1), File(id=2)]))
        session.commit()
        folder = session.get(Folder, 1)
        files = list(folder.files)
        session.delete(folder)
        session.flush()
        seen["passive_all.in_memory"] = [f.folder_id for f in files] + [state(files[0])]
        session.expire_all()
        seen["passive_all.in_database"] = session.scalars(
            select(File.folder_id).order_by(File.id)).all()
        session.commit()

    with Session(engine) as session:
        session.add(Team(id=1, players=[Player(id=1), Player(id=2)]))
        session.commit()
        session.delete(session.get(Team, 1))
        seen["passive.not_null"] = raised(session.commit)
        session.rollback()
        seen["passive.not_null_kept"] = [count(session, Team), count(session, Player)]


def passive_many_to_many(engine, seen):
    with Session(engine) as session:
        shared = PRight(id=2)
        session.add_all([PLeft(id=1, children=[PRight(id=1), shared]),
                         PLeft(id=2, children=[shared, PRight(id=3)])])
        session.commit()

    with Session(engine) as session:
        session.delete(session.get(PLeft, 1))
        session.commit()
        seen["passive_m2m.rights"] = session.scalars(select(PRight.id).order_by(PRight.id)).all()
        seen["passive_m2m.links"] = session.execute(
            select(passive_association.c.left_id, passive_association.c.right_id)
            .order_by(passive_association.c.right_id)
        ).all()
        seen["passive_m2m.survivor"] = [c.id for c in session.get(PLeft, 2).children]


def delete_orphan(engine, seen):
    with Session(engine) as session:
        account = Account(id=1, name="acct", addresses=[
            Mailbox(email="m1"), Mailbox(email="m2"), Mailbox(email="m3")])
        session.add(account)
        session.commit()
        orphan = account.addresses[0]
        account.addresses.remove(orphan)
        seen["orphan.removed"] = [state(orphan), orphan in session.deleted]
        session.flush()
        seen["orphan.flushed"] = [state(orphan),
                                  session.scalars(select(Mailbox.email).order_by(Mailbox.id)).all()]
        session.commit()


def merge_cascade(engine, seen):
    with Session(engine) as session:
        session.add(User(id=20, name="merge me", addresses=[Address(id=20, email="old")]))
        session.commit()

    detached = User(id=20, name="merged", addresses=[Address(id=20, email="new"),
                                                      Address(id=21, email="added")])
    with Session(engine) as session:
        merged = session.merge(detached)
        seen["merge.result"] = [
            merged is detached, state(detached), state(merged), merged.name,
            sorted((a.id, a.email, state(a)) for a in merged.addresses),
            any(a is d for a in merged.addresses for d in detached.addresses),
        ]
        session.commit()
        seen["merge.rows"] = session.execute(
            select(Address.id, Address.email, Address.user_id)
            .where(Address.id.in_([20, 21])).order_by(Address.id)
        ).all()


def refresh_expire_expunge(engine, seen):
    with Session(engine) as session:
        album = Album(id=1, title="trip", photos=[Photo(caption="a"), Photo(caption="b")])
        session.add(album)
        session.commit()
        photos = list(album.photos)
        seen["expire.loaded"] = [p.caption for p in photos]

        session.expire(album)
        seen["expire.cascaded"] = [loaded_keys(p) for p in photos]
        seen["expire.reloaded"] = [p.caption for p in album.photos]

        photos[0].caption = "changed"
        session.refresh(album)
        seen["refresh.children_expired_only"] = [
            loaded_keys(p) for p in photos]
        seen["refresh.child_value"] = photos[0].caption

        seen["expunge.reloaded"] = [p.caption for p in album.photos]
        session.expunge(album)
        seen["expunge.cascaded"] = [state(album)] + [state(p) for p in photos]
        seen["expunge.session_empty"] = list(session)


def notes_on_delete(engine, seen):
    with Session(engine) as session:
        user = User(id=30, name="notes", addresses=[Address(email="n1"), Address(email="n2")])
        session.add(user)
        session.commit()

        address = user.addresses[1]
        session.delete(address)
        session.flush()
        seen["notes.still_present"] = address in user.addresses
        session.commit()
        seen["notes.after_commit"] = address in user.addresses

    with Session(engine) as session:
        account = Account(id=2, name="acct2",
                          addresses=[Mailbox(email="x1"), Mailbox(email="x2")],
                          preference=Preference(theme="dark"))
        session.add(account)
        session.commit()
        del account.addresses[1]
        session.flush()
        seen["notes.del_item"] = session.scalars(
            select(Mailbox.email).where(Mailbox.account_id == 2)).all()

        pref = account.preference
        account.preference = None
        session.flush()
        seen["notes.preference_deleted"] = [state(pref), count(session, Preference)]

        other = Account(id=3, name="acct3")
        session.add(other)
        shared = Preference(theme="shared")
        account.preference = shared
        seen["notes.single_parent"] = raised(lambda: setattr(other, "preference", shared))
        session.rollback()


def run(engine):
    seen = {}
    for section in (configuring, save_update, bidirectional, delete_cascade, many_to_many,
                    passive_deletes, passive_many_to_many, delete_orphan, merge_cascade,
                    refresh_expire_expunge, notes_on_delete):
        section(engine, seen)
    return seen
'''


def test_cascades_run_the_same_on_both(engine: Any) -> None:
    seen = same_on_both(PROGRAM, engine, name="cascades")
    assert seen["config.orphans_deleted"] == [1, 1]
    assert seen["save.added"][:2] == [True, True]
    assert seen["save.removed_follows"][0] is True
    assert seen["backref.append"] == [True, True, True]
    assert seen["backref.assign"][:3] == [True, True, False]
    assert seen["delete.rows"] == [0, 0]
    assert seen["delete.set_null_unloaded"] is None
    assert seen["m2m.rights"] == [3]
    assert seen["passive.rows"] == [0, 0]
    assert seen["passive_all.in_database"] == [None, None]
    assert seen["passive.not_null"] == "IntegrityError"
    assert seen["passive_m2m.rights"] == [3]
    assert seen["orphan.flushed"][0] == "deleted"
    assert seen["notes.still_present"] is True and seen["notes.after_commit"] is False
    assert seen["notes.preference_deleted"] == ["deleted", 0]
