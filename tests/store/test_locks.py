"""Store locks on SQLite and PostgreSQL: dead holders are taken over at once, live ones waited for."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from store.locks import (INTAKE, Holder, StoreBusy, acquire, default_holder, holder_of, is_dead,
                         process_started, release, writer_lock)

ROOT = Path(__file__).resolve().parents[2]
TAKE_AND_DIE = ("import os, sys; from datetime import timedelta; from store import open_store; "
                "from store.locks import acquire, default_holder; s = open_store(sys.argv[1]); "
                "assert acquire(s, 'intake', default_holder('import', unique=True), timedelta(minutes=10)); "
                "os._exit(9)")


def test_lock_of_a_killed_process_on_this_host_is_taken_over_at_once(store, store_url):
    died = subprocess.run([sys.executable, "-c", TAKE_AND_DIE, store_url], cwd=ROOT, capture_output=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert died.returncode == 9, died.stderr.decode()[-1000:]
    assert holder_of(store, INTAKE) is None                     # a dead holder holds nothing
    mine = default_holder("poll", unique=True)
    assert acquire(store, INTAKE, mine, timedelta(minutes=10))  # long before its 10 minutes expire
    assert holder_of(store, INTAKE) == mine


def test_a_reused_pid_is_not_mistaken_for_the_holder(store):
    me = Holder.parse(default_holder("import"))
    assert me.pid == os.getpid() and me.started == process_started(os.getpid())
    earlier = Holder(me.host, me.pid, str(int(me.started) - 1), "import")   # same pid, another process
    assert is_dead(earlier) and not is_dead(me)
    assert acquire(store, INTAKE, earlier.text(), timedelta(minutes=10))
    assert acquire(store, INTAKE, default_holder("poll", unique=True), timedelta(minutes=10))


def test_live_holder_and_other_hosts_keep_the_lock_until_it_expires(store):
    other = Holder("elders-host", 4242, "77", "run").text()
    assert acquire(store, INTAKE, other, timedelta(minutes=10))
    assert not acquire(store, INTAKE, default_holder("poll", unique=True), timedelta(minutes=10))
    assert holder_of(store, INTAKE) == other
    assert release(store, INTAKE, other)
    assert acquire(store, INTAKE, other, timedelta(seconds=-1))              # expired at once
    assert acquire(store, INTAKE, default_holder("poll", unique=True), timedelta(minutes=10))


def test_writer_lock_waits_says_who_once_then_gives_up(store, capsys):
    other = Holder("elders-host", 4242, "77", "import").text()
    assert acquire(store, INTAKE, other, timedelta(minutes=10))
    started = time.monotonic()
    with pytest.raises(StoreBusy) as busy:
        with writer_lock(store, "poll", INTAKE, wait=timedelta(seconds=1.5), poll_seconds=0.1):
            pass
    assert time.monotonic() - started >= 1.5
    assert "import on elders-host, pid 4242, since" in str(busy.value)
    err = capsys.readouterr().err
    assert err.count("waiting:") == 1 and "import on elders-host, pid 4242" in err
    release(store, INTAKE, other)
    with writer_lock(store, "poll", INTAKE, wait=timedelta(0)) as holder:
        assert holder_of(store, INTAKE) == holder and Holder.parse(holder).command == "poll"
    assert holder_of(store, INTAKE) is None


def test_two_threads_of_one_process_are_two_writers(store):
    inside = threading.Event()
    leave = threading.Event()

    def first():
        with writer_lock(store, "run", INTAKE, wait=timedelta(0)):
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30)
    try:
        with pytest.raises(StoreBusy):
            with writer_lock(store, "run", INTAKE, wait=timedelta(0)):
                pass
    finally:
        leave.set()
        thread.join(30)
    with writer_lock(store, "run", INTAKE, wait=timedelta(0)):
        pass


def test_heartbeat_keeps_a_long_holder_alive(store):
    with writer_lock(store, "import", INTAKE, ttl=timedelta(seconds=1.5)) as holder:
        time.sleep(3.5)                       # more than twice the TTL: only the heartbeat keeps it
        assert holder_of(store, INTAKE) == holder
        assert not acquire(store, INTAKE, Holder("elders-host", 1, "1", "poll").text(), timedelta(minutes=1))
    assert socket.gethostname() in holder
