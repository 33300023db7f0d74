# A differential-test program (tests/differential); run it from the repository root
# with LIBRARY set to either library and compare the output.
import sys, gc, weakref, types
sys.path.insert(0,'/tmp/conf')
from cycle import cycle
gc.disable()

sys.path.insert(0, "tests")
from sqlalchemy import create_engine, delete, select, text, update  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402, F401

from differential.models import build_models  # noqa: E402
from session_ext.engines import configure_sqlite  # noqa: E402  (pure Core event listeners)

LIBRARY = "session_ext"
if LIBRARY == "sqlalchemy":
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session, joinedload, selectinload
else:
    from session_ext import Session, inspect, joinedload, selectinload

models = build_models(LIBRARY)
User, Address, Note, Keyword = models.User, models.Address, models.Note, models.Keyword
engine = configure_sqlite(create_engine('sqlite://', poolclass=StaticPool))
models.metadata.drop_all(engine)
models.metadata.create_all(engine)
old_session = None
session = Session(engine, expire_on_commit=False)
session.flush()
_r = session.scalars(select(User).where(User.nickname.is_(None)).order_by(User.id).options(joinedload(User.notes))).unique().all()  # -> []
u0 = User(name='ann', age=0)
session.close()
session = Session(engine, expire_on_commit=False)
session.connection(execution_options={"logging_token": "t"})
session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
session.close()
session = Session(engine, expire_on_commit=False)
u1 = User(name='bob', age=None)
session.add(u1)
_r = u0.id  # -> None
session.commit()
session.begin_nested()
u0.nickname = 'x'
_r = session.execute(text('UPDATE users SET age = 1 WHERE age IS NULL')).rowcount  # -> 1
_r = session.is_modified(u0)  # -> True
session.close()
session = Session(engine, expire_on_commit=False)
_r = session.scalars(select(Keyword).order_by(Keyword.word).options(selectinload(Keyword.users))).unique().all()  # -> []
_r = session.merge(u0)  # -> 'new User #1'
u2 = _r
_r = session.execute(update(Address).values(user_id=None), execution_options={"synchronize_session": 'evaluate'}).rowcount  # -> 0
_r = u0.age  # -> 0
try:
    _r = session.execute(delete(Note).where(Note.author == u0), execution_options={"synchronize_session": False}).rowcount
except Exception as error:
    # sqlalchemy: raises StatementError; session_ext: raises StatementError
    print(repr(error))
n3 = Note(text=None)
session.add(n3)
n3.author = u0
_r = session.execute(delete(Note).where(Note.author == u1), execution_options={"synchronize_session": False}).rowcount  # -> 0
_r = session.scalars(select(Address).where(Address.user_id == 1).order_by(Address.id).options(selectinload(Address.user))).unique().all()  # -> []
session.close()
session = Session(engine, expire_on_commit=False)
_r = session.get(User, 3, populate_existing=True)  # -> None
try:
    session.expire(n3)
except Exception as error:
    # sqlalchemy: raises InvalidRequestError; session_ext: raises InvalidRequestError
    print(repr(error))
session.rollback()
n3.author = None
_r = session.get(Keyword, 'a', options=[selectinload(Keyword.users)], populate_existing=True)  # -> None
session.delete(u0)
_r = session.is_modified(u0)  # -> False
_r = session.is_modified(u2)  # -> False
session.connection(execution_options={"logging_token": "t"})
session.rollback()
_r = session.scalars(select(User).where(User.age >= 1).order_by(User.id)).unique().all()  # -> []
session.delete(u1)
session.expunge_all()
u4 = User(name=None)
session.add(u4)
session.connection(execution_options={"logging_token": "t"})
_r = session.is_modified(u2)  # -> False
try:
    _r = session.get(User, 2, options=[joinedload(User.addresses)], populate_existing=True)
except Exception as error:
    # sqlalchemy: raises IntegrityError; session_ext: raises IntegrityError
    print(repr(error))
try:
    _r = session.get(User, 4, populate_existing=True)
except Exception as error:
    # sqlalchemy: raises PendingRollbackError; session_ext: raises PendingRollbackError
    print(repr(error))
session.rollback()
try:
    u1.notes = [n3]
except Exception as error:
    # sqlalchemy: raises DetachedInstanceError; session_ext: raises DetachedInstanceError
    print(repr(error))
_r = session.scalars(select(User).where(User.keywords.any(Keyword.word == 'a')).order_by(User.id)).all()  # -> []
n3.author = None
u2.name = None
_r = session.merge(u1)  # -> 'new User #1'
u5 = _r
_r = session.get(Address, 1, options=[joinedload(Address.user)])  # -> None
_r = session.scalars(select(Address).order_by(Address.id)).unique().all()  # -> []
try:
    _r = session.merge(u4, load=False)
except Exception as error:
    # sqlalchemy: raises InvalidRequestError; session_ext: raises InvalidRequestError
    print(repr(error))
session.rollback()
try:
    session.expunge(u1)
except Exception as error:
    # sqlalchemy: raises InvalidRequestError; session_ext: raises InvalidRequestError
    print(repr(error))
session.rollback()
_r = session.is_modified(u0)  # -> False
session.close()
session.delete(u1)
try:
    session.expire(u4, ['nickname'])
except Exception as error:
    # sqlalchemy: raises InvalidRequestError; session_ext: raises InvalidRequestError
    print(repr(error))
_r = session.scalars(select(Keyword).where(Keyword.word == 'a').order_by(Keyword.word).options(selectinload(Keyword.users))).all()  # -> []
session.close()
wr = weakref.ref(session)
print('\n'.join(cycle(session) or ['no cycle']))
session = Session(engine, expire_on_commit=False)
# DIFFERENCE: state of u1: sqlalchemy='detached', session_ext='deleted'
print([s for s in ('transient', 'pending', 'persistent', 'deleted', 'detached') if getattr(inspect(u1), s)])
# DIFFERENCE: session of u1: sqlalchemy=None, session_ext='another session'
print(inspect(u1).session)

print('alive', wr() is not None)
import cycle as C

print('\n'.join(C.backcycle(wr()) or ['none']))
for r in gc.get_referrers(wr()):
    print("REF", type(r), object.__repr__(r)[:80], r.f_code.co_name if isinstance(r, types.FrameType) else "")
    if isinstance(r, types.FrameType): 
        print("   ", r.f_code.co_filename, r.f_lineno, r.f_back)
        for rr in gc.get_referrers(r): print("     <-", type(rr), object.__repr__(rr)[:80])
