"""The in-memory session store: keyed by a hash of the user id, expiring after inactivity."""

from __future__ import annotations

from bot.engine import Session
from bot.store import MemoryStore, person_key


def test_key_is_a_keyed_hash_not_the_id() -> None:
    key = person_key(b"secret", 123456789)
    assert "123456789" not in key
    assert key == person_key(b"secret", 123456789)
    assert key != person_key(b"another secret", 123456789)
    assert key != person_key(b"secret", 123456780)


def test_sessions_expire_after_inactivity_and_are_purged() -> None:
    now = [0.0]
    store = MemoryStore(ttl=100, clock=lambda: now[0])
    store.put("a", Session("ru", {"sex": "male"}))
    store.put("b", Session("tg"))
    now[0] = 60
    assert store.get("a") == Session("ru", {"sex": "male"})
    store.put("a", Session("ru", {"sex": "male"}))  # activity renews it
    now[0] = 150
    assert store.get("a") is not None
    assert store.get("b") is None
    now[0] = 400
    assert store.purge() == 1
    assert len(store) == 0


def test_delete_forgets_at_once() -> None:
    store = MemoryStore(ttl=100)
    store.put("a", Session("ky"))
    store.delete("a")
    store.delete("never-there")
    assert store.get("a") is None
