"""Kombu's ``filesystem://`` transport, made safe for the embedded bus.

Kombu's own filesystem transport (5.7) has two gaps that lose messages:

1. ``_put`` creates the final ``<ms>_<uuid>.<queue>.msg`` file and then writes into it; a consumer
   polling the folder can take the file while it is still empty or half-written, fail to decode it
   and delete it. Here a message is written under a temporary name the readers never match
   (``.<name>.tmp``: kombu's filter compares what follows the first dot with ``<queue>.msg``),
   flushed and fsynced, then renamed to its final name: a reader only ever sees whole messages.
2. ``_get`` deletes the file as soon as it is fetched, so an unacknowledged message lives only in
   the consumer's memory and a worker killed with SIGKILL loses it. Here ``_get`` moves the file to
   ``processing/<pid>-<token>-<name>`` instead: an ack deletes it, a requeue or the channel's
   restore on close renames it back to its queue once (kombu's own restore republishes through
   the exchange, which would also copy it into every other queue bound to that routing key), and
   every new channel renames back the files of processes that are gone (or of an earlier process
   that had this one's pid; a pid now used by an unrelated process keeps its files until that
   process ends). Redelivery after a crash is harmless: the consumers' inbox makes it a no-op.

A message file that still cannot be decoded (written by something else, or damaged on disk) is
moved to ``bad/`` and logged by name and size, never by content: retrying it would fail forever,
dropping it would hide it.

Message files are named ``<wall-clock ns, 20 digits>-<per-process sequence, 12 digits>-<uuid>``
and fetched in string order, so string order is arrival order: fixed width keeps it when the number
of digits would change, the wall clock keeps it across processes and reboots (a monotonic clock
restarts at boot), and the sequence keeps one process's messages in order when two share a
nanosecond or the clock steps back. A message published with the header ``x-not-before`` (epoch
nanoseconds; retries use it, see ``topology``) is named from that time instead, and ``_get`` stops
at the first name that is not yet due, so it waits on disk until then and comes after whatever
arrived before it was due.

Each fetch gets a fresh delivery tag. Kombu stamps the tag once at publish, so the copies of an
event routed to several queues share it; like AMQP's, ours names one delivery, not one message.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

from portal_runtime import logs

log = logs.get("folder_bus")

# delivery tag -> the in-flight file of that delivery, for every channel of this process.
_held: dict[str, Path] = {}
_owner: tuple[int, str] | None = None
_owner_lock = threading.Lock()


NOT_BEFORE_HEADER = "x-not-before"
wall_clock_ns = time.time_ns  # a module attribute, so tests can turn the clock
_sequence_lock = threading.Lock()
_last_stamp = 0
_sequence = 0


def message_name(queue: str, not_before: int | None = None) -> str:
    """A file name whose string order is arrival order (see the module docstring)."""
    global _last_stamp, _sequence
    with _sequence_lock:
        # Never behind this process's previous message, even if the wall clock steps back.
        _last_stamp = max(wall_clock_ns(), _last_stamp)
        _sequence += 1
        stamp, sequence = _last_stamp, _sequence
    if not_before is not None and not_before > stamp:
        stamp = not_before
    return f"{stamp:020d}-{sequence:012d}-{uuid.uuid4()}.{queue}.msg"


def due_at(name: str) -> int:
    """The time a message file may be fetched (its name's stamp); 0 for names of other forms."""
    stamp = name[:20]
    return int(stamp) if stamp.isdigit() and name[20:21] == "-" else 0


def owner() -> str:
    """``<pid>-<token>`` of this process; the token tells a reused pid from its predecessor."""
    global _owner
    with _owner_lock:
        if _owner is None or _owner[0] != os.getpid():  # new process, or forked since
            _owner = (os.getpid(), uuid.uuid4().hex[:8])
        return f"{_owner[0]}-{_owner[1]}"


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


class Channel(filesystem.Channel):
    def __init__(self, connection, **kwargs):
        super().__init__(connection, **kwargs)
        for folder in (self.processing_folder, self.bad_folder):
            folder.mkdir(parents=True, exist_ok=True)
        self.recover_orphans()

    # Without these options, hidden folders inside the data folder (never taken for messages).

    @property
    def processing_folder(self) -> Path:
        default = Path(self.data_folder_in) / ".processing"
        return Path(self.transport_options.get("processing_folder", default))

    @property
    def bad_folder(self) -> Path:
        default = Path(self.data_folder_in) / ".bad"
        return Path(self.transport_options.get("bad_folder", default))

    # -- writing: whole messages only -------------------------------------------------------------

    def _put(self, queue, payload, **kwargs):
        not_before = (payload.get("headers") or {}).get(NOT_BEFORE_HEADER)
        name = message_name(queue, int(not_before) if not_before is not None else None)
        final = Path(self.data_folder_out) / name
        temp = final.with_name(f".{name}.tmp")
        try:
            with open(temp, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, final)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc

    # -- reading: a fetched message stays on disk until it is settled -----------------------------

    def _get(self, queue):
        wanted = f"{queue}.msg"
        data = Path(self.data_folder_in)
        now = wall_clock_ns()
        for name in sorted(os.listdir(data)):
            if due_at(name) > now:
                break  # this one and every later name are not due yet
            if name.partition(".")[2] != wanted:
                continue
            held = self.processing_folder / f"{owner()}-{name}"
            try:
                os.replace(data / name, held)
            except FileNotFoundError:
                continue  # another consumer took it first
            try:
                payload = loads(bytes_to_str(held.read_bytes()))
                tag = str(uuid.uuid4())
                payload["properties"]["delivery_tag"] = tag
            except OSError as exc:
                os.replace(held, data / name)
                raise ChannelError(f"Cannot read file {name!r} from queue") from exc
            except (ValueError, TypeError, KeyError) as exc:
                self.set_aside(held, name, exc)
                continue
            _held[tag] = held
            return payload
        raise Empty()

    def set_aside(self, held: Path, name: str, error: Exception) -> None:
        size = held.stat().st_size
        os.replace(held, self.bad_folder / name)
        log.error(
            "bus.undecodable_message",
            file=name,
            size=size,
            error=type(error).__name__,
            moved_to=str(self.bad_folder),
        )

    @staticmethod
    def settle(delivery_tag) -> None:
        """The delivery is done with: delete its file."""
        held = _held.pop(delivery_tag, None)
        if held is not None:
            held.unlink(missing_ok=True)

    def basic_ack(self, delivery_tag, multiple=False):
        self.settle(delivery_tag)
        super().basic_ack(delivery_tag, multiple=multiple)

    def basic_reject(self, delivery_tag, requeue=False):
        if not requeue:  # dropped for good, as on a broker without a dead-letter exchange
            self.settle(delivery_tag)
        super().basic_reject(delivery_tag, requeue=requeue)  # a requeue comes to _restore

    # With no_ack nobody will ack: such a delivery is settled as it is handed over.

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if no_ack and message is not None:
            self.settle(message.delivery_tag)
        return message

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)
        if no_ack:
            deliver = self.connection._callbacks[queue]

            def settle_and_deliver(raw_message):
                self.settle(raw_message["properties"]["delivery_tag"])
                return deliver(raw_message)

            self.connection._callbacks[queue] = settle_and_deliver

    def _restore(self, message):
        """Put an unacked delivery back in its own queue, under its old name (so first in line).

        A tag we do not hold was acked, rejected or restored already: nothing to do.
        """
        held = _held.pop(message.delivery_tag, None)
        if held is not None:
            self.put_back(held)

    def put_back(self, held: Path) -> bool:
        original = held.name.split("-", 2)[2]
        try:
            os.replace(held, Path(self.data_folder_in) / original)
        except FileNotFoundError:
            return False  # someone else put it back first
        return True

    def recover_orphans(self) -> None:
        """Put back the in-flight files of processes that are gone (a SIGKILL, a crash)."""
        me = owner()
        my_pid = os.getpid()
        recovered = 0
        for held in self.processing_folder.iterdir():
            parts = held.name.split("-", 2)
            if len(parts) != 3 or not parts[0].isdigit():
                continue
            pid, file_owner = int(parts[0]), f"{parts[0]}-{parts[1]}"
            if file_owner == me or (pid != my_pid and is_alive(pid)):
                continue
            recovered += self.put_back(held)
        if recovered:
            log.warning("bus.recovered_in_flight", count=recovered)


class Transport(filesystem.Transport):
    """Kombu keeps one broker state (which queue is bound to which exchange) for every
    filesystem bus of a process, and skips writing a binding to a bus's control folder when that
    state already has it: a second bus in the same process (another folder) got no bindings and
    dropped what was published to it. Here each control folder has its own state."""

    Channel = Channel
    _states: dict[str, virtual.BrokerState] = {}
    _states_lock = threading.Lock()

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        folder = str(Path(client.transport_options.get("control_folder", "control")).resolve())
        with self._states_lock:
            self.state = self._states.setdefault(folder, virtual.BrokerState())
