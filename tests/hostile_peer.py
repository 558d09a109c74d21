#!/usr/bin/env python3
"""tests/hostile_peer.py — raw-socket peers for tests/test_hostile.sh.

Each subcommand plays one broken or hostile peer against a copybench server
on 127.0.0.1 (or a broken server for a client: mute-server never answers,
lying-server streams messages with one fault).  probe and flood print one
line per connection that the shell test asserts on:

  reply status=S reason=TEXT after=SECONDS     the server answered 64 bytes
  closed bytes=N after=SECONDS                 closed without a valid reply
  open after=SECONDS                           still open at our deadline

Standard library only; every wait is bounded.  The hello layout is the one
documented in lib/msg.c: little-endian, 32 bytes — magic u32, version u16,
strategy u8, mode u8, flags u32, 4 zero bytes, msg_size u64, 8 zero bytes.
"""
import argparse
import os
import resource
import select
import socket
import struct
import sys
import threading
import time

HELLO_MAGIC = 0x42595043
REPLY_LEN = 64


def hello(magic=HELLO_MAGIC, version=1, strategy=2, mode=1, flags=0, size=65536):
    """A correctly framed 32-byte hello with the given field values."""
    return struct.pack("<IHBBI4xQ8x", magic, version, strategy, mode, flags, size)


# name -> (bytes to send, close our write side afterwards?)
PAYLOADS = {
    "random32": (lambda: os.urandom(32), True),
    "random4k": (lambda: os.urandom(4096), True),
    "truncated-close": (lambda: hello()[:10], True),
    "truncated-silent": (lambda: hello()[:10], False),
    "silent": (lambda: b"", False),
    # one hello byte every 0.7 s: each recv sees data well inside any per-call
    # timeout, so only a deadline over the whole hello ends it
    "trickle": (lambda: b"", False),
    "wrong-magic": (lambda: hello(magic=0xDEADBEEF), True),
    "bad-version": (lambda: hello(version=99), True),
    "size-0": (lambda: hello(size=0), True),
    "size-2^63": (lambda: hello(size=1 << 63), True),
    "size-64M+1": (lambda: hello(size=(64 << 20) + 1), True),
    "strategy-99": (lambda: hello(strategy=99), True),
    "mode-200": (lambda: hello(mode=200), True),
    "mismatch-a1": (lambda: hello(strategy=1), True),
}


def connect(port, timeout=5.0):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_until_closed(sock, deadline):
    """Bytes the peer sent until it closed or the deadline passed; and
    whether it closed."""
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return buf, False
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except socket.timeout:
            return buf, False
        except ConnectionResetError:
            return buf, True
        if not data:
            return buf, True
        buf += data


def describe(buf, closed, t0):
    after = time.monotonic() - t0
    if len(buf) >= REPLY_LEN:
        magic, status = struct.unpack("<II", buf[:8])
        if magic == HELLO_MAGIC:
            reason = buf[8:REPLY_LEN].split(b"\0", 1)[0].decode("ascii", "replace")
            return f"reply status={status} reason={reason} after={after:.2f}"
    if closed:
        return f"closed bytes={len(buf)} after={after:.2f}"
    return f"open after={after:.2f}"


def trickle(sock, deadline):
    for b in hello():
        if time.monotonic() + 0.7 > deadline:
            return
        try:
            sock.send(bytes([b]))
        except OSError:
            return
        r, _, _ = select.select([sock], [], [], 0.7)
        if r:
            return   # the server answered (or closed): read it below


def one_probe(port, kind, wait_s, out, idx):
    make, close_write = PAYLOADS[kind]
    t0 = time.monotonic()
    try:
        sock = connect(port)
    except OSError as exc:
        out[idx] = f"{kind}: connect-error {exc}"
        return
    with sock:
        if kind == "trickle":
            trickle(sock, t0 + wait_s)
        data = make()
        try:
            if data:
                sock.sendall(data)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            # the server may answer and close (RST: our bytes beyond the
            # hello are unread) before we are done; its reply is still
            # queued for us to read
            pass
        buf, closed = read_until_closed(sock, t0 + wait_s)
        out[idx] = f"{kind}: {describe(buf, closed, t0)}"


def cmd_probe(args):
    """Send each named payload on its own connection, all at once."""
    out = [None] * len(args.kinds)
    threads = [threading.Thread(target=one_probe, args=(args.port, k, args.wait, out, i))
               for i, k in enumerate(args.kinds)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(args.wait + 5)
    for kind, line in zip(args.kinds, out):
        print(line if line else f"{kind}: no result")
    return 0


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def cmd_flood(args):
    """Open COUNT connections that never send a hello; once at least EXPECT of
    them were answered (or SETTLE seconds passed) report how many got which
    reply and how many are still open, then close them all."""
    raise_nofile(args.count + 64)
    t0 = time.monotonic()
    socks = []
    try:
        for _ in range(args.count):
            socks.append(connect(args.port, timeout=args.settle))
    except OSError as exc:
        print(f"connect-error after {len(socks)} connections: {exc}")
        for s in socks:
            s.close()
        return 1
    print(f"opened {len(socks)} in {time.monotonic() - t0:.2f}s")
    poller = select.poll()
    by_fd = {}
    for s in socks:
        poller.register(s, select.POLLIN)
        by_fd[s.fileno()] = s
    answered = {}
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline and len(answered) < args.expect:
        for fd, _ in poller.poll(100):
            if fd in answered:
                continue
            s = by_fd[fd]
            buf, closed = read_until_closed(s, time.monotonic() + 1.0)
            answered[fd] = describe(buf, closed, t0).rsplit(" after=", 1)[0]
            poller.unregister(fd)
    counts = {}
    for line in answered.values():
        counts[line] = counts.get(line, 0) + 1
    for line, n in sorted(counts.items()):
        print(f"{n} x {line}")
    print(f"still-open {len(socks) - len(answered)}")
    # close with RST (linger 0): a thousand TIME_WAIT sockets would keep
    # their ports from the next test servers' bind() for a minute
    linger0 = struct.pack("ii", 1, 0)
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
        except OSError:
            pass
        s.close()
    return 0


def cmd_mute_server(args):
    """A listener that accepts and never answers, for SECONDS; prints its
    port first."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    print(lsock.getsockname()[1], flush=True)
    held = []
    deadline = time.monotonic() + args.seconds
    lsock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            conn, _ = lsock.accept()
            held.append(conn)
        except socket.timeout:
            pass
    for c in held:
        c.close()
    lsock.close()
    return 0


def pattern_field(field, length):
    """Field `field` of a message as msg_fill() writes it (lib/msg.c:
    msg_pattern_byte), sequence bytes not yet stamped."""
    out = bytearray(length)
    for i in range(length):
        x = (i * 2654435761 + field * 0x9E3779B9) & 0xFFFFFFFF
        out[i] = ((x >> 24) ^ (x >> 11) ^ i) & 0xFF
    return out


def message_template(size):
    """The 8 fields of a size-byte message, back to back: size//8 bytes
    each, the first size%8 fields one byte more."""
    return b"".join(pattern_field(f, size // 8 + (1 if f < size % 8 else 0)) for f in range(8))


def cmd_lying_server(args):
    """Accept one client, answer its hello with 'accept', then stream
    messages with one fault at message AT: a flipped byte (byte), a skipped
    sequence number (seq), or half a message and a close (truncate).  Stops
    when the client closes its side; prints its port first."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(args.seconds)
    print(lsock.getsockname()[1], flush=True)
    conn, _ = lsock.accept()
    deadline = time.monotonic() + args.seconds
    with conn:
        conn.settimeout(args.seconds)
        hdr = b""
        while len(hdr) < 32:
            data = conn.recv(32 - len(hdr))
            if not data:
                return 1
            hdr += data
        size = struct.unpack_from("<Q", hdr, 16)[0]
        conn.sendall(struct.pack("<II", HELLO_MAGIC, 0) + b"\0" * (REPLY_LEN - 8))
        if conn.recv(1) != b"G":
            return 1
        template = bytearray(message_template(size))
        seq = 0
        conn.setblocking(False)
        while time.monotonic() < deadline:
            msg = bytearray(template)
            if args.fault == "seq" and seq == args.at:
                seq += 1
            struct.pack_into("<Q", msg, 0, seq)
            if args.fault == "byte" and seq == args.at:
                msg[size // 2] ^= 0x5A
            if args.fault == "truncate" and seq == args.at:
                msg = msg[: size // 2]
            view = memoryview(msg)
            while view and time.monotonic() < deadline:
                select.select([], [conn], [], 0.1)
                try:
                    view = view[conn.send(view):]
                except BlockingIOError:
                    pass
                except OSError:
                    return 0
            if args.fault == "truncate" and seq == args.at:
                return 0
            seq += 1
            try:
                if conn.recv(64) == b"":
                    return 0          # the client stopped us
            except BlockingIOError:
                pass
            except OSError:
                return 0
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe", help="send named payloads, one connection each")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--wait", type=float, default=3.0, help="seconds to wait per connection")
    p.add_argument("kinds", nargs="+", choices=sorted(PAYLOADS))
    p.set_defaults(fn=cmd_probe)
    p = sub.add_parser("flood", help="hold many hello-less connections")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--expect", type=int, required=True, help="answers to wait for")
    p.add_argument("--settle", type=float, default=4.0)
    p.set_defaults(fn=cmd_flood)
    p = sub.add_parser("mute-server", help="accept and never answer")
    p.add_argument("--seconds", type=float, required=True)
    p.set_defaults(fn=cmd_mute_server)
    p = sub.add_parser("lying-server", help="stream messages with one fault")
    p.add_argument("--fault", choices=["byte", "seq", "truncate"], required=True)
    p.add_argument("--at", type=int, default=50, help="message number of the fault")
    p.add_argument("--seconds", type=float, default=10.0)
    p.set_defaults(fn=cmd_lying_server)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
