"""uvicorn's httptools protocol with a bound on the request head.

httptools (llhttp, in C) parses requests several times faster than h11, but uvicorn sets it no
limit on the size of a request line plus headers: a client could send an endless head and the
server would buffer it. h11 has such a bound (``--h11-max-incomplete-event-size``); this class
applies the same bound to httptools, so `romagraph serve` gets the faster parser without losing
the protection. A head over the bound is answered 431 and the connection closed.

Counting: after each chunk is fed to the parser, if a request has begun and its head is not yet
complete, the chunk's bytes count towards that head. This overcounts by at most the tail of the
previous request in the same chunk, and never counts body bytes (once the head is complete the
request's bytes stop counting).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_MAX_HEAD = 65536


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.max_head = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD
        self.head_pending = False
        self.head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_pending = True
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        self.head_pending = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.head_pending or self.transport.is_closing():
            return
        self.head_bytes += len(data)
        if self.head_bytes > self.max_head:
            self.head_pending = False
            message = (
                f"The request line and headers are larger than the limit of {self.max_head} "
                "bytes."
            ).encode("ascii")
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                b"content-type: text/plain; charset=utf-8\r\n"
                b"content-length: " + str(len(message)).encode("ascii") + b"\r\n"
                b"connection: close\r\n\r\n" + message
            )
            self.transport.close()
