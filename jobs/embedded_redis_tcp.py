"""The embedded default's Redis served on loopback, for another process of the same run.

The demo runs the web side (the API and Stripe's webhooks) in a process of its own, as
production does, so that it does not share an interpreter lock with the workers. That process
is configured like any production web process (REDIS_URL points here) and speaks the Redis
protocol to this server, which runs each command on this process's fakeredis.

One thing more than a Redis server: a message that another process enqueues through Dramatiq's
broker script is counted and wakes this process's consumers, as an enqueue made here does
(jobs/embedded_broker.py), so that the consumers need not poll for it. The script's arguments
are Dramatiq's (RedisBroker._dispatch: the command, a timestamp, then the queue's name).
"""

from __future__ import annotations

import socket
import threading
from io import BufferedIOBase
from socketserver import StreamRequestHandler, ThreadingTCPServer
from typing import Any

from jobs.embedded_broker import WakingRedisBroker

# EVALSHA <sha> <numkeys> <namespace> <command> <timestamp> <queue name> ...
_SCRIPT_CALLS = frozenset({b"EVALSHA", b"EVAL"})
# How often the serving loop looks whether stop() was called (socketserver's default: 0.5 s).
STOP_POLL_S = 0.05
_COMMAND_AT, _QUEUE_AT = 4, 6


class ProtocolError(ValueError):
    """The client sent something that is not a Redis command array."""


def read_command(stream: BufferedIOBase) -> tuple[list[bytes], bytes] | None:
    """One command as redis-py sends it (an array of bulk strings): its fields and its raw
    bytes; None when the client has closed the connection."""
    header = stream.readline()
    if not header:
        return None
    if header[:1] != b"*" or not header.endswith(b"\r\n"):
        raise ProtocolError(f"expected an array, got {header[:40]!r}")
    raw = [header]
    fields = []
    for _ in range(int(header[1:-2])):
        length_line = stream.readline()
        if length_line[:1] != b"$":
            raise ProtocolError(f"expected a bulk string, got {length_line[:40]!r}")
        body = stream.read(int(length_line[1:-2]) + 2)
        raw += (length_line, body)
        fields.append(body[:-2])
    return fields, b"".join(raw)


def enqueued_queue(fields: list[bytes]) -> str | None:
    """The queue a Dramatiq enqueue writes to, when `fields` is one."""
    if (
        len(fields) > _QUEUE_AT
        and fields[0].upper() in _SCRIPT_CALLS
        and fields[_COMMAND_AT] == b"enqueue"
    ):
        return fields[_QUEUE_AT].decode()
    return None


def _one_line(text: bytes) -> bytes:
    return text.replace(b"\r", b" ").replace(b"\n", b" ")


class _Handler(StreamRequestHandler):
    server: LoopbackRedisServer
    disable_nagle_algorithm = True

    def handle(self) -> None:
        from fakeredis import FakeRedisConnection
        from fakeredis._clients._tcp_server import encode_reply

        connection = FakeRedisConnection(server=self.server.fake_server, protocol=2)
        fake_socket = connection.get_socket()
        broker = self.server.broker
        try:
            while (command := read_command(self.rfile)) is not None:
                fields, raw = command
                queue = enqueued_queue(fields)
                if queue is not None:
                    broker.expect_message()  # counted before it is written, as enqueue() does
                fake_socket.sendall(raw)
                try:
                    reply: Any = connection.read_response(disable_decoding=True)
                except Exception as error:  # an error reply, sent on as Redis would
                    reply = error
                if queue is not None:
                    if isinstance(reply, Exception):
                        broker.message_settled()
                    else:
                        broker.wake(queue)
                protocol = fake_socket._client_info.protocol_version  # HELLO may change it
                encoded = encode_reply(reply, protocol)
                if isinstance(reply, Exception):  # one line, as Redis makes it (Lua's tracebacks)
                    encoded = b"-" + _one_line(encoded[1:-2]) + b"\r\n"
                self.wfile.write(encoded)
                self.wfile.flush()
        except (ConnectionError, ProtocolError):
            pass
        finally:
            connection.disconnect()


class LoopbackRedisServer(ThreadingTCPServer):
    """This process's fakeredis, served on a free loopback port until stop()."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, broker: WakingRedisBroker) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.broker = broker
        self.fake_server = broker.client.connection_pool.connection_kwargs["server"]
        # stop() waits for the serving loop to look at its flag: every STOP_POLL_S.
        self._thread = threading.Thread(
            target=self.serve_forever, args=(STOP_POLL_S,), name="loopback-redis", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"redis://{host}:{port}/0"

    def start(self) -> LoopbackRedisServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()

    def server_close(self) -> None:
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        super().server_close()
