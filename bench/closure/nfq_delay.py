#!/usr/bin/env python3
"""Holds every packet of a netfilter queue for DELAY_MS, then accepts it.

The stand-in for `tc qdisc ... netem delay` where the kernel lacks sch_netem
(CONFIG_NET_SCH_NETEM unset): iptables rules in a network namespace send the
packets of its veth to NFQUEUE QUEUE, and this process gives each one its
verdict DELAY_MS after it arrived, in arrival order, through libnetfilter_queue
(Debian libnetfilter-queue1) called with ctypes. Packets keep their order and
TCP sees a real round-trip time (slow start, windows); only metadata is copied
to user space, and GSO packets are queued whole (NFQA_CFG_F_GSO).

    nfq_delay.py QUEUE DELAY_MS      # prints READY, runs until SIGTERM
"""
import ctypes
import ctypes.util
import heapq
import os
import select
import signal
import socket
import sys
import time

NF_ACCEPT = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1
NFQA_CFG_F_GSO = 4


class PacketHeader(ctypes.Structure):
    _fields_ = [("packet_id", ctypes.c_uint32), ("hw_protocol", ctypes.c_uint16), ("hook", ctypes.c_uint8)]


def main() -> None:
    queue, delay_ms = int(sys.argv[1]), float(sys.argv[2])
    lib = ctypes.CDLL(ctypes.util.find_library("netfilter_queue") or "libnetfilter_queue.so.1", use_errno=True)
    lib.nfq_open.restype = ctypes.c_void_p
    lib.nfq_create_queue.restype = ctypes.c_void_p
    lib.nfq_create_queue.argtypes = [ctypes.c_void_p, ctypes.c_uint16, ctypes.c_void_p, ctypes.c_void_p]
    lib.nfq_get_msg_packet_hdr.restype = ctypes.POINTER(PacketHeader)
    lib.nfq_get_msg_packet_hdr.argtypes = [ctypes.c_void_p]
    lib.nfq_set_verdict.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p]
    lib.nfq_fd.argtypes = [ctypes.c_void_p]
    lib.nfq_handle_packet.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.nfq_set_mode.argtypes = [ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint32]
    lib.nfq_set_queue_maxlen.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.nfq_set_queue_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    lib.nfq_destroy_queue.argtypes = [ctypes.c_void_p]
    lib.nfq_close.argtypes = [ctypes.c_void_p]

    handle = lib.nfq_open()
    if not handle:
        sys.exit(f"nfq_open failed: {os.strerror(ctypes.get_errno())}")
    due: list[tuple[float, int, int]] = []
    seq = 0

    CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)

    def on_packet(_qh, _msg, data, _user):
        nonlocal seq
        header = lib.nfq_get_msg_packet_hdr(data)
        seq += 1
        heapq.heappush(due, (time.monotonic() + delay_ms / 1000, seq, socket.ntohl(header.contents.packet_id)))
        return 0

    callback = CALLBACK(on_packet)
    qh = lib.nfq_create_queue(handle, queue, callback, None)
    if not qh:
        sys.exit(f"nfq_create_queue {queue} failed: {os.strerror(ctypes.get_errno())}")
    lib.nfq_set_mode(qh, NFQNL_COPY_META, 0)
    lib.nfq_set_queue_maxlen(qh, 65536)
    flags = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN
    lib.nfq_set_queue_flags(qh, flags, flags)
    fd = lib.nfq_fd(handle)
    sock = socket.socket(fileno=os.dup(fd))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    buf = ctypes.create_string_buffer(1 << 16)
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("READY", flush=True)
    while not stop:
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, packet_id = heapq.heappop(due)
            lib.nfq_set_verdict(qh, packet_id, NF_ACCEPT, 0, None)
        timeout = max(0.0, due[0][0] - now) if due else 0.5
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        except InterruptedError:
            continue
        while ready:  # everything waiting, then back to the verdicts
            try:
                n = sock.recv_into(buf, len(buf), socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:  # ENOBUFS: the kernel dropped messages (fail-open accepts them)
                print(f"nfq_delay: {e}", file=sys.stderr, flush=True)
                continue
            if n <= 0:
                break
            lib.nfq_handle_packet(handle, buf, n)
    for _, _, packet_id in due:
        lib.nfq_set_verdict(qh, packet_id, NF_ACCEPT, 0, None)
    lib.nfq_destroy_queue(qh)
    lib.nfq_close(handle)


if __name__ == "__main__":
    main()
