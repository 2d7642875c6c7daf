"""Starting, finding and stopping the processes of a cluster (nodes and HAProxy), by pid only."""
import os
import re
import signal
import socket
import subprocess
import time


def alive(pid, name):
    """True if pid runs and its command is `name` (guards against a reused pid); zombies are dead."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return False
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    state = stat[stat.rindex(")") + 2]
    return state not in "ZX" and comm.startswith(name[:15])


def children(pid):
    """Pids whose parent is pid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(entry))
    return out


def wait_until(cond, timeout, what):
    """Polls cond() every 20 ms until it is true; raises after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


def stop(pid, name, sig=signal.SIGTERM, grace=10.0):
    """Sends sig, waits for the process to end, SIGKILL after grace seconds."""
    if not alive(pid, name):
        return
    try:
        os.kill(pid, sig)
        wait_until(lambda: not alive(pid, name), grace, f"{name} {pid} to exit")
    except RuntimeError:
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid, name), 5.0, f"{name} {pid} to die")
    except ProcessLookupError:
        pass


def spawn(argv, log_path):
    """Starts a detached process (own session) logging to log_path; returns its pid."""
    log = open(log_path, "ab")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True, close_fds=True)
    log.close()
    return proc.pid


LISTENING = re.compile(rb"listening on (\S+):(\d+)")


def start_node(server_bin, addr, data_dir, log_path, extra, timeout=15.0):
    """Starts httpkv-server on addr (HOST:PORT, port 0 = any); returns (pid, HOST:PORT)."""
    os.makedirs(data_dir, exist_ok=True)
    offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    pid = spawn([server_bin, "--listen", addr, "--data-dir", data_dir] + extra, log_path)
    found = []

    def listening():
        with open(log_path, "rb") as f:
            f.seek(offset)
            m = LISTENING.search(f.read())
        if m:
            found.append(f"{m.group(1).decode()}:{m.group(2).decode()}")
            return True
        if not alive(pid, os.path.basename(server_bin)):
            raise RuntimeError(f"{server_bin} exited at start (see {log_path})")
        return False

    try:
        wait_until(listening, timeout, f"a node to listen on {addr}")
    except RuntimeError:
        stop(pid, os.path.basename(server_bin), signal.SIGKILL)  # never leave one behind
        raise
    return pid, found[0]


def free_port(host):
    """A port nobody listens on right now (the caller binds it soon after)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def http_get(addr, path, timeout=2.0):
    """(status, body) of GET http://addr/path, or (0, b"") when it cannot connect."""
    host, port = addr.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return 0, b""
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), body


def log_tail(path, lines=5):
    """The last lines of a log file ("" if it cannot be read), for error messages."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""
