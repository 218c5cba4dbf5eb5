"""The batched store_raw_many keeps the rules of store_raw, on SQLite and PostgreSQL."""

from sqlalchemy import func, select

from store.messages import store_raw, store_raw_many
from store.schema import MailboxUid, Message
from vng_ingest.models import RawMessage


def mail(message_id: str, body: str, trace: str = "a") -> bytes:
    return (f"Received: by {trace}.example\r\nMessage-ID: <{message_id}>\r\nSubject: x\r\n\r\n{body}\r\n").encode()


def raw(data: bytes, uid: int | None = None) -> RawMessage:
    return RawMessage(raw=data, source="imap:test", folder="INBOX", uidvalidity=7 if uid else None, uid=uid)


def test_batch_stores_each_message_once(store):
    with store.session() as session:
        first = store_raw(session, raw(mail("old@x", "earlier")))
    batch = [raw(mail("a@x", "one"), 1), raw(mail("a@x", "one"), 2),          # same bytes twice in the batch
             raw(mail("b@x", "two", "a"), 3), raw(mail("b@x", "two", "b"), 4),  # relayed: other trace header
             raw(mail("c@x", "three"), 5), raw(mail("c@x", "other body"), 6),  # same id, different body
             raw(mail("old@x", "earlier"), 7)]                                # stored before the batch
    with store.session() as session:
        results = store_raw_many(session, batch)
    assert [r.created for r in results] == [True, False, True, False, True, True, False]
    assert results[0].pk == results[1].pk and results[2].pk == results[3].pk
    assert results[6].pk == first.pk
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 5
        assert session.scalar(select(func.count()).select_from(MailboxUid)) == 7
        stored = session.get(Message, results[4].pk)
        assert stored.raw == batch[4].raw and stored.sha256 == batch[4].sha256


def test_batch_twice_adds_nothing(store):
    batch = [raw(mail(f"m{i}@x", f"body {i}"), i + 1) for i in range(30)]
    with store.session() as session:
        assert all(r.created for r in store_raw_many(session, batch))
    with store.session() as session:
        assert not any(r.created for r in store_raw_many(session, batch))
        assert session.scalar(select(func.count()).select_from(Message)) == 30
        assert session.scalar(select(func.count()).select_from(MailboxUid)) == 30
