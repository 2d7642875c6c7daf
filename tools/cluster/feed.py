"""One node's change feed (GET /kv/?watch=1&since=SEQ, Server-Sent Events; SPEC "Change feed"),
read up to a SEQ: the mover's catch-up after its bulk copy."""
import json
import socket
import time

import pipeline


class Feed:
    def __init__(self, addr, since, timeout=10.0):
        host, port = addr.rsplit(":", 1)
        self.addr, self.last, self.timeout = addr, since, timeout
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.sendall(f"GET /kv/?watch=1&since={since} HTTP/1.1\r\nHost: {addr}\r\n"
                          f"{pipeline.AUTH_LINE}\r\n".encode())
        self.raw, self.text = b"", b""  # chunked bytes not decoded yet; SSE text not parsed yet
        while (end := self.raw.find(b"\r\n\r\n")) < 0:
            self._recv()
        head, self.raw = self.raw[:end], self.raw[end + 4:]
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise RuntimeError(f"change feed of {addr} since {since}: HTTP {status} "
                               "(history compacted away? run again)")

    def close(self):
        self.sock.close()

    def _recv(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError(f"{self.addr} closed its change feed")
        self.raw += chunk

    def _dechunk(self):
        """Moves every complete chunk of self.raw into self.text."""
        while (eol := self.raw.find(b"\r\n")) >= 0:
            size = int(self.raw[:eol].split(b";")[0], 16)
            if size == 0:
                raise ConnectionError(f"{self.addr} ended its change feed")
            if len(self.raw) < eol + 2 + size + 2:
                return
            self.text += self.raw[eol + 2:eol + 2 + size]
            self.raw = self.raw[eol + 4 + size:]

    def _events(self):
        """Complete events of self.text: [(seq, kind, key bytes)]; comments are skipped."""
        out = []
        *blocks, self.text = self.text.split(b"\n\n")
        for block in blocks:
            fields = dict(line.split(b": ", 1) for line in block.split(b"\n")
                          if line and not line.startswith(b":"))
            if b"id" in fields:
                data = json.loads(fields[b"data"].decode("utf-8", "surrogateescape"))
                out.append((int(fields[b"id"]), fields[b"event"].decode(),
                            data["key"].encode("utf-8", "surrogateescape")))
        return out

    def read_until(self, seq):
        """Events after the last one read, up to and including the first with SEQ >= seq."""
        events, deadline = [], time.monotonic() + self.timeout
        while self.last < seq:
            if time.monotonic() > deadline:
                raise RuntimeError(f"change feed of {self.addr} did not reach SEQ {seq} "
                                   f"(at {self.last})")
            self._recv()
            self._dechunk()
            for ev in self._events():
                events.append(ev)
                self.last = ev[0]
        return events
