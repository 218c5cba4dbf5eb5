"""Reading a message (parse + extract) in a child process that can be stopped.

Parsing and extraction never raise, but a message can still hold them: a pattern that
backtracks, a body of twenty megabytes, an attachment that inflates without end. So every
message is read in a child process with a time budget and a memory budget. A message that
exceeds one is stopped, comes back as a failure with its reason in Dutch, and the queue
moves on; the child is replaced for the next message.

The child is forked from this process (it inherits the extractor already imported, and no
main module is run again, as the spawn and forkserver methods would), and it is reused
for message after message while it behaves. It touches nothing it inherits but the pipe:
no database connection, no log handler of its own.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import resource
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Callable

from parsers.message import ParsedMessage, Problem
from vng_ingest.models import Extraction, Kind

log = logging.getLogger(__name__)

#: Seconds one message may take to parse and extract.
MESSAGE_SECONDS = 30.0
#: Bytes of memory a child may take on top of what it has when it starts.
MESSAGE_MEMORY = 1024 * 1024 * 1024

ReadFunction = Callable[[bytes, "Kind | None"], "tuple[ParsedMessage, Extraction]"]


@dataclass(frozen=True)
class Budget:
    seconds: float = MESSAGE_SECONDS
    memory: int | None = MESSAGE_MEMORY


def read_message(raw: bytes, kind: Kind | None = None) -> tuple[ParsedMessage, Extraction]:
    """Parse and extract; under ``kind`` when a person chose what the message is."""
    from parsers.extract import extract_as, read_message as read
    parsed, extraction = read(raw)
    if kind is not None:
        extraction = extract_as(parsed, kind, extraction)
    return parsed, extraction


def stopped(problem: Problem, detail: str) -> tuple[ParsedMessage, Extraction]:
    """What a message that was stopped reads as: no text, a failure with its reason."""
    parsed = ParsedMessage(errors=[detail])
    parsed.problems.append(problem)
    return parsed, Extraction(Kind.OTHER, kind_confidence=0.0, error=detail)


def too_slow(seconds: float) -> tuple[ParsedMessage, Extraction]:
    text = (f"Het lezen van dit bericht duurde langer dan {seconds:g} seconden en is gestopt. "
            "Lees het bericht zelf en voer de gegevens zo nodig met de hand in.")
    return stopped(Problem("too_slow", text), f"stopped: reading took longer than {seconds:g} s")


def reader_died(exitcode: int | None) -> tuple[ParsedMessage, Extraction]:
    text = ("Het lezen van dit bericht is afgebroken (te veel geheugen of een fout in een bijlage). "
            "Lees het bericht zelf en voer de gegevens zo nodig met de hand in.")
    return stopped(Problem("reader_stopped", text), f"stopped: the reading process ended (exit code {exitcode})")


def _child(connection: Connection, read: ReadFunction, memory: int | None) -> None:
    """Child loop: read messages until the parent closes the pipe (or dies: then so does the child)."""
    _die_with_parent()
    _close_inherited(keep=connection.fileno())
    if memory:
        _limit_memory(memory)
    while True:
        try:
            raw, kind = connection.recv()
        except (EOFError, OSError):
            return
        try:
            result = read(raw, kind)
        except MemoryError:
            result = reader_died(None)
        except Exception as error:  # noqa: BLE001 - read_message never raises; a test read might
            result = stopped(Problem("reader_stopped", "Het lezen van dit bericht is mislukt."),
                             f"stopped: {type(error).__name__}")
        try:
            connection.send(result)
        except Exception as error:  # noqa: BLE001 - e.g. a result that cannot be pickled
            connection.send(stopped(Problem("reader_stopped", "Het lezen van dit bericht is mislukt."),
                                    f"stopped: result could not be returned ({type(error).__name__})"))


def _close_inherited(keep: int) -> None:
    """Close every descriptor the fork copied but stdio and our pipe. A copy held here would keep
    the parent's other pipes and sockets open (a browser driver, a database connection) after the
    parent closes them, and whoever waits for their end would wait for ever."""
    limit = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536
    os.closerange(3, keep)
    os.closerange(keep + 1, max(keep + 1, limit))


def _die_with_parent() -> None:
    """Linux: the kernel stops this child when the process that started it dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)     # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit_memory(extra: int) -> None:
    """Cap the address space at what the child has now plus ``extra`` bytes."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        current = pages * resource.getpagesize()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = current + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        log.debug("memory budget not available on this system")


class Reader:
    """Reads messages one at a time in a child process under a budget. Thread-safe."""

    def __init__(self, budget: Budget = Budget(), read: ReadFunction = read_message):
        self.budget = budget
        self._read = read
        self._lock = threading.Lock()
        self._process = None
        self._connection: Connection | None = None

    def read(self, raw: bytes, kind: Kind | None = None) -> tuple[ParsedMessage, Extraction]:
        with self._lock:
            connection = self._ensure_child()
            try:
                connection.send((raw, kind))
                if connection.poll(self.budget.seconds):
                    return connection.recv()
            except (EOFError, OSError, BrokenPipeError):
                exitcode = self._stop_child()
                return reader_died(exitcode)
            self._stop_child()
            log.warning("a message took longer than %g s to read and was stopped", self.budget.seconds)
            return too_slow(self.budget.seconds)

    def close(self) -> None:
        with self._lock:
            self._stop_child()

    def _ensure_child(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection is not None:
            return self._connection
        self._stop_child()
        if self._read is read_message:
            _warm_up()
        parent_end, child_end = multiprocessing.Pipe()
        process = _Child.fork(lambda: _child(child_end, self._read, self.budget.memory), parent_end)
        child_end.close()
        self._process, self._connection = process, parent_end
        return parent_end

    def _stop_child(self) -> int | None:
        process, connection = self._process, self._connection
        self._process, self._connection = None, None
        if connection is not None:
            connection.close()
        if process is None:
            return None
        if process.is_alive():
            process.kill()
        process.join(5)
        return process.exitcode


_WARM = False
#: A small offer read once in this process before the first child is forked, so that every
#: child inherits a built pipeline (spaCy, matchers, classifier) instead of building its own.
WARM_UP_MESSAGE = (b"From: Opvang <opvang@example.nl>\r\nTo: info@vng.nl\r\nSubject: Opvanglocatie\r\n"
                   b"Date: Mon, 14 Mar 2022 10:00:00 +0100\r\n\r\nWij bieden vanaf 1 april 2022 plaats aan "
                   b"20 personen in sporthal De Ster, Stationsweg 1, 1234 AB Voorbeeld.\r\n")


def _warm_up() -> None:
    global _WARM
    if not _WARM:
        _WARM = True
        read_message(WARM_UP_MESSAGE)


class _Child:
    """A forked child process: started with ``fork``, stopped with ``kill``, reaped with ``join``.

    Plain ``os.fork`` rather than multiprocessing's Process, because the child closes every
    descriptor it inherited but stdio and its pipe (``_close_inherited``), which would also
    close the sentinel multiprocessing watches it by.
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.exitcode: int | None = None

    @classmethod
    def fork(cls, run: Callable[[], None], parent_end: Connection) -> "_Child":
        pid = os.fork()
        if pid == 0:                                      # the child
            code = 0
            try:
                parent_end.close()
                run()
            except BaseException:                         # noqa: BLE001 - nothing may return to the caller's code
                code = 1
            finally:
                os._exit(code)
        return cls(pid)

    def is_alive(self) -> bool:
        if self.exitcode is None:
            self._reap(os.WNOHANG)
        return self.exitcode is None

    def kill(self) -> None:
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _reap(self, flags: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:
            self.exitcode = -1
            return
        if pid:
            self.exitcode = os.waitstatus_to_exitcode(status)


_SHARED: Reader | None = None
_SHARED_LOCK = threading.Lock()


_BUDGET = Budget()


def configure(budget: Budget, accept_threshold: float | None = None) -> None:
    """Set the budget of the process-wide reader (the CLI does, from ``reading:`` in the config),
    and the threshold extraction accepts offers at (``review.accept_threshold``)."""
    from parsers import confidence
    global _BUDGET
    with _SHARED_LOCK:
        _BUDGET = budget
        changed = accept_threshold is not None and accept_threshold != confidence.accept_threshold()
        if accept_threshold is not None:
            confidence.configure(accept_threshold)
        if _SHARED is not None:
            _SHARED.budget = budget
            if changed:
                _SHARED.close()     # the next child is forked with the new threshold


def shared_reader() -> Reader:
    """The process-wide reader the pipeline uses (started on first use, stopped at exit)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Reader(_BUDGET)
            atexit.register(_SHARED.close)
        return _SHARED
