"""The process-wide provider slot every optional dependency (search, location, chat) shares."""

from __future__ import annotations

import threading

import pytest

from headless_commerce.runtime.common.provider_slot import ProviderSlot


def test_installed_provider_wins_and_none_forgets_it():
    built = []
    slot = ProviderSlot(lambda: built.append(1) or "deployed")
    slot.set("local")
    assert slot.get() == "local" and slot.installed() and built == []
    slot.set(None)
    assert not slot.installed()
    assert slot.get() == "deployed" and slot.get() == "deployed" and built == [1]


def test_concurrent_first_uses_build_once():
    built = []
    barrier = threading.Barrier(8)

    def build():
        built.append(threading.get_ident())
        return object()

    slot = ProviderSlot(build)
    seen = []

    def use():
        barrier.wait()
        seen.append(slot.get())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len({id(p) for p in seen}) == 1


def test_a_failed_build_is_retried_on_next_use():
    attempts = []

    def build():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("not configured")
        return "ok"

    slot = ProviderSlot(build)
    with pytest.raises(RuntimeError):
        slot.get()
    assert slot.get() == "ok" and len(attempts) == 2
