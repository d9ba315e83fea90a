"""A minimal HTTP/1.1 client over a plain socket, for requests no proper client would send (raw
bytes in the path, a Content-Length that is not a number, headers of 100 KB, a body that trickles
in) and for the hostile corpus of tests/fixtures/hostile/ (``expand`` reads its notation)."""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def expand(value: Any) -> bytes:
    """The corpus notation: a string, a list of parts, {"repeat": s, "times": n} or
    {"hex": "…"} (bytes that are not UTF-8)."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, list):
        return b"".join(expand(v) for v in value)
    if "repeat" in value:
        return expand(value["repeat"]) * int(value["times"])
    if "hex" in value:
        return bytes.fromhex(value["hex"])
    raise ValueError(f"unknown corpus value {value!r}")


def request(
    base: str,
    method: str,
    target: bytes | str,
    headers: dict[str, bytes | str] | None = None,
    body: bytes = b"",
    *,
    chunked: bool = False,
    timeout: float = 30.0,
) -> RawResponse:
    """Send one request exactly as given (``Connection: close``) and read the whole answer."""
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    if isinstance(target, str):
        target = target.encode("utf-8")
    names = {k.lower() for k in (headers or {})}
    lines = [method.encode() + b" " + target + b" HTTP/1.1"]
    if "host" not in names:
        lines.append(f"Host: {host}:{port}".encode())
    for k, v in (headers or {}).items():
        lines.append(k.encode() + b": " + (v.encode("utf-8") if isinstance(v, str) else v))
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        payload = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i: i + 65536]), body[i: i + 65536])
            for i in range(0, len(body), 65536)
        ) + b"0\r\n\r\n"
    else:
        if body and "content-length" not in names:
            lines.append(b"Content-Length: " + str(len(body)).encode())
        payload = body
    lines.append(b"Connection: close")
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(head)
        # the server may answer (413…) and close before reading everything
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(payload)
        data = _read_all(sock, timeout)
    return parse(data)


def _read_all(sock: socket.socket, timeout: float) -> bytes:
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def parse(data: bytes) -> RawResponse:
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/"):
        raise ValueError(f"not an HTTP response: {data[:200]!r}")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        key = k.strip().lower()
        headers[key] = f"{headers[key]}, {v.strip()}" if key in headers else v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, pos = b"", 0
        while True:
            end = rest.find(b"\r\n", pos)
            if end < 0:
                break
            size = int(rest[pos:end].split(b";")[0] or b"0", 16)
            if size == 0:
                break
            body += rest[end + 2: end + 2 + size]
            pos = end + 2 + size + 2
        rest = body
    return RawResponse(status, headers, rest)
