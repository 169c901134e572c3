"""A mail server on loopback that the tests can make misbehave: it accepts every message,
or stalls (takes the TCP connection and never greets), or refuses (closes each
connection at once), or acknowledges late (takes the whole message, then waits before
its "250"): what a relay does when it is down, hung or slow. Only the SMTP that Django's
backend speaks without TLS or login.
"""

import re
import socketserver
import threading
import time
from dataclasses import dataclass, field

ACCEPT = "accept"
STALL = "stall"
REFUSE = "refuse"
MESSAGE_ID = re.compile(rb"^Message-ID: *(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass
class SmtpSink:
    mode: str = ACCEPT
    ack_delay: float = 0.0  # seconds between the message's end and the "250"
    # Every message whose end arrived, acknowledged in time or not: what the relay has.
    received: list[bytes] = field(default_factory=list, repr=False)
    connections: int = 0
    port: int = 0
    _closed: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __enter__(self) -> "SmtpSink":
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                sink._serve(self.rfile, self.wfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()

    def message_ids(self) -> list[str]:
        with self._lock:
            messages = list(self.received)
        return [match.group(1).decode() for m in messages if (match := MESSAGE_ID.search(m))]

    def wait_for(self, count: int, *, seconds: float) -> bool:
        """Whether ``count`` messages arrived within ``seconds`` (polling the list)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.05)
        return len(self.received) >= count

    def _serve(self, rfile, wfile) -> None:
        with self._lock:
            self.connections += 1
        if self.mode == REFUSE:
            return
        if self.mode == STALL:
            self._closed.wait()
            return
        wfile.write(b"220 sink ESMTP\r\n")
        while line := rfile.readline():
            verb = line[:4].upper()
            if verb == b"QUIT":
                wfile.write(b"221 bye\r\n")
                return
            if verb == b"DATA":
                wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                with self._lock:
                    self.received.append(data)
                if self._closed.wait(self.ack_delay):
                    return
                wfile.write(b"250 queued\r\n")
            else:  # EHLO, HELO, MAIL, RCPT, RSET, NOOP
                wfile.write(b"250 ok\r\n")
