"""HTTP serving: a threaded http.server with keep-alive, and the in-process starter.

The standard library's ThreadingHTTPServer (one thread per connection, HTTP/1.1 keep-alive,
responses written in one send) serves the benchmark's targets with room to spare (see
bench/stripe_sim_bench.py).

    with start_simulator(port=0, api_key="sk_test_midway") as sim:
        client = stripe.StripeClient("sk_test_midway", base_addresses={"api": sim.url})
"""

from __future__ import annotations

import io
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .config import SimConfig
from .fees import FeeModel
from .simulator import Request, Simulator

# Python's socket module does not name it; the value is Linux's (asm-generic/socket.h).
SO_TIMESTAMPNS = 35 if sys.platform.startswith("linux") else None


class _TimestampedSocketIO(io.RawIOBase):
    """Reads a socket with recvmsg, keeping the kernel's receive time of the first bytes read
    since `take_arrival()`: when a request reached this host, however late its thread ran."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._arrival: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size, ancillary, _, _ = self._sock.recvmsg_into([buffer], 64)
        if self._arrival is None:
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                    seconds, nanoseconds = struct.unpack("qq", data[:16])
                    self._arrival = seconds + nanoseconds / 1e9
        return size

    def take_arrival(self) -> float | None:
        arrival, self._arrival = self._arrival, None
        return arrival


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stripe_sim/1.0"
    sys_version = ""
    # Buffer the whole response and flush once per request (handle_one_request flushes);
    # no Nagle delay between header and body packets.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: SimHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def setup(self) -> None:
        super().setup()
        self._raw: _TimestampedSocketIO | None = None
        if SO_TIMESTAMPNS is None:
            return
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except OSError:
            return  # no kernel timestamps here: arrival is when the handler reads the request
        self._raw = _TimestampedSocketIO(self.connection)
        self.rfile = io.BufferedReader(self._raw, self.rbufsize if self.rbufsize > 0 else 8192)

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        headers = {k.lower(): v for k, v in self.headers.items()}
        arrival = self._raw.take_arrival() if self._raw is not None else None
        req = Request(method, path, query, headers, body, f"http://{host}", arrival or time.time())
        resp = self.server.sim.handle(req)
        if resp.drop:
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(resp.body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sim: Simulator, verbose: bool = False) -> None:
        self.sim = sim
        self.verbose = verbose
        super().__init__(address, _Handler)


class RunningSimulator:
    """A simulator serving on a port in a background thread."""

    def __init__(self, httpd: SimHTTPServer, host: str) -> None:
        self._httpd = httpd
        self.simulator = httpd.sim
        self.host = host
        self.port: int = httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"stripe-sim-{self.port}", daemon=True,
        )
        self._stopped = False

    @property
    def config(self) -> SimConfig:
        return self.simulator.config

    @property
    def webhook_secret(self) -> str | None:
        """The default endpoint's signing secret (generated when none was given)."""
        return self.simulator.config.webhook_secret

    def start(self) -> RunningSimulator:
        self.simulator.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self.simulator.stop()
        self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Block until interrupted (the CLI's foreground mode)."""
        try:
            self._thread.join()
        except KeyboardInterrupt:
            self.stop()

    # Shortcuts to the control API (same code as POST /_sim/...), for in-process callers.
    def reset(self) -> None:
        self.simulator.reset()

    def advance(self, seconds: int) -> Any:
        return self.simulator.control("/_sim/clock", {"advance": seconds})

    def set_clock(self, when: int, freeze: bool | None = None) -> Any:
        body: dict[str, Any] = {"set": when}
        if freeze is not None:
            body["freeze"] = freeze
        return self.simulator.control("/_sim/clock", body)

    def drain_webhooks(self, timeout: float = 5.0) -> Any:
        return self.simulator.control("/_sim/webhooks/drain", {"timeout": timeout})

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_simulator(
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    *,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    fees: FeeModel | None = None,
    config: SimConfig | None = None,
    verbose: bool = False,
    **settings: Any,
) -> RunningSimulator:
    """Start a simulator in a background thread; port 0 picks a free port.

    `api_key` None accepts any `sk_test_...` key. `webhook_url` registers a default endpoint
    (all events, platform and connected accounts) signed with `webhook_secret` (generated when
    None). `fees` sets the fee model; other keyword arguments set SimConfig fields.
    """
    cfg = config or SimConfig()
    cfg.api_key = api_key if api_key is not None else cfg.api_key
    if webhook_url is not None:
        cfg.webhook_url = webhook_url
    if webhook_secret is not None:
        cfg.webhook_secret = webhook_secret
    if fees is not None:
        cfg.fees = fees
    for name, value in settings.items():
        if not hasattr(cfg, name):
            raise TypeError(f"unknown simulator setting: {name}")
        setattr(cfg, name, value)
    sim = Simulator(cfg)
    httpd = SimHTTPServer((host, port), sim, verbose=verbose)
    return RunningSimulator(httpd, host).start()
