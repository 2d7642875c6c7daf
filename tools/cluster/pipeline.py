"""Pipelined HTTP/1.1 requests to one httpkv node over one connection (the mover's transport:
a batch of requests is written at once, then the answers are read in order)."""
import socket
import threading

BATCH = 200

# "Authorization: Bearer TOKEN\r\n" on every request to a node, for a cluster started with
# --auth-file (cluster.py sets it from the file's first admin token); "" otherwise.
AUTH_LINE = ""

# Every request of the mover says so: a node takes it whatever its placement says (it copies
# keys to a node before they are its own, reads and deletes them after they left one; see
# README "Several nodes", PUT /admin/placement). Needs the admin token under --auth-file.
MOVE_LINE = "X-Key-Move: 1\r\n"


def use_token_file(path):
    """The first admin token of an --auth-file FILE (TOKEN SCOPE [NAME] lines) for the
    mover's own requests; the nodes check it like any client's."""
    global AUTH_LINE
    with open(path) as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 2 and fields[1] == "admin":
                AUTH_LINE = f"Authorization: Bearer {fields[0]}\r\n"
                return
    raise RuntimeError(f"{path} has no admin token (the mover needs one)")


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


class Pipeline:
    def __init__(self, addr, timeout=30):
        host, port = addr.rsplit(":", 1)
        self.addr, self.sock = addr, socket.create_connection((host, int(port)), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _read_more(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError(f"{self.addr} closed the connection")
        self.buf += chunk

    def _answer(self, method):
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._read_more()
        lines = self.buf[:end].split(b"\r\n")
        self.buf = self.buf[end + 4:]
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode("latin-1")
        if "chunked" in headers.get("transfer-encoding", "") and method != "HEAD":
            return Answer(status, headers, self._chunked_body())
        length = 0 if method == "HEAD" or status in (204, 304) else int(headers.get("content-length", 0))
        while len(self.buf) < length:
            self._read_more()
        body, self.buf = self.buf[:length], self.buf[length:]
        return Answer(status, headers, body)

    def _line(self):
        while (end := self.buf.find(b"\r\n")) < 0:
            self._read_more()
        line, self.buf = self.buf[:end], self.buf[end + 2:]
        return line

    def _chunked_body(self):
        parts = []
        while True:
            size = int(self._line().split(b";")[0], 16)
            if size == 0:
                while self._line():  # trailer fields, then the empty line
                    pass
                return b"".join(parts)
            while len(self.buf) < size + 2:
                self._read_more()
            parts.append(self.buf[:size])
            self.buf = self.buf[size + 2:]

    def statuses(self, raw):
        """raw: [bytes of one whole request] (see request()) -> [status] in order; the bulk
        path (PUT/DELETE answers: a head and a Content-Length body, never chunked)."""
        sender = threading.Thread(target=self.sock.sendall, args=(b"".join(raw),))
        sender.start()
        try:
            return self._statuses(len(raw))
        finally:
            sender.join()

    def _statuses(self, n):
        out, buf, pos = [], self.buf, 0
        while len(out) < n:
            end = buf.find(b"\r\n\r\n", pos)
            if end >= 0:
                cl = buf.find(b"\r\nContent-Length: ", pos, end)
                length = int(buf[cl + 18:buf.index(b"\r", cl + 18)]) if cl >= 0 else 0
                if end + 4 + length <= len(buf):
                    out.append(int(buf[pos + 9:pos + 12]))
                    pos = end + 4 + length
                    continue
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError(f"{self.addr} closed the connection")
            buf, pos = buf[pos:] + chunk, 0
        self.buf = buf[pos:]
        return out

    def request(self, method, path, body=None):
        """The bytes of one request for statuses()."""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.addr}\r\n{AUTH_LINE}{MOVE_LINE}"
        if body is None:
            return (head + "\r\n").encode()
        return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    def run(self, requests):
        """requests: [(method, path, body or None, {header: value})] -> [Answer] in order."""
        answers = []
        for i in range(0, len(requests), BATCH):
            batch = requests[i:i + BATCH]
            out = []
            for method, path, body, headers in batch:
                head = [f"{method} {path} HTTP/1.1", f"Host: {self.addr}", MOVE_LINE[:-2]] + (
                    [AUTH_LINE[:-2]] if AUTH_LINE else [])
                head += [f"{k}: {v}" for k, v in headers.items()]
                if body is not None:
                    head.append(f"Content-Length: {len(body)}")
                out.append(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
            # Written by a second thread while this one reads: a node answering faster than we
            # send can never fill both socket buffers and stall us (large GET values).
            sender = threading.Thread(target=self.sock.sendall, args=(b"".join(out),))
            sender.start()
            try:
                answers += [self._answer(m) for m, _, _, _ in batch]
            finally:
                sender.join()
        return answers
