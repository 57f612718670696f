#!/usr/bin/env python3
"""Real libgcrypt (libgcrypt.so.20, via ctypes) as a test oracle for guix-p2p.

Usage:
  libgcrypt.py version
  libgcrypt.py genkey                      -> JSON {"public": ..., "private": ...} (advanced text)
  libgcrypt.py serve                       -> JSON requests on stdin, one JSON reply per line

Requests for "serve" (one JSON object per line; byte strings travel as base64):
  {"op": "version"}
  {"op": "genkey", "params": "(genkey (ecdsa (curve Ed25519) (flags rfc6979)))"}   params optional
  {"op": "sign", "key": SEXP_TEXT, "hash": HEX}           signs (data (flags rfc6979) (hash sha256 #HEX#))
  {"op": "sign", "key": SEXP_TEXT, "data": SEXP_TEXT}     signs an arbitrary data s-expression
  {"op": "verify", "sig": SEXP_TEXT, "data": SEXP_TEXT, "key": SEXP_TEXT}
  {"op": "sprint", "input": BASE64}                        gcry_sexp_new(autodetect=1) then sprint
  {"op": "bench_verify", "sig": ..., "data": ..., "key": ..., "count": N}
                                                           N gcry_pk_verify calls, timed in-process
Replies: {"ok": true, ...} or {"ok": false, "error": "<gcry_strerror text>", "code": N}.
  sign   -> {"sig": ADVANCED_TEXT, "r": HEX, "s": HEX}  (r/s: the atom bytes exactly as stored)
  verify -> {"valid": bool, "error": TEXT}
  sprint -> {"advanced": BASE64, "canonical": BASE64}
  bench_verify -> {"seconds": wall time of the N calls, "valid": all returned 0}
  genkey -> {"public": ADVANCED_TEXT, "private": ADVANCED_TEXT}
"""
import base64
import ctypes
import json
import sys
import time

GCRYCTL_DISABLE_SECMEM = 37
GCRYCTL_INITIALIZATION_FINISHED = 38
GCRYSEXP_FMT_CANON = 1
GCRYSEXP_FMT_ADVANCED = 3
DEFAULT_GENKEY = "(genkey (ecdsa (curve Ed25519) (flags rfc6979)))"

lib = ctypes.CDLL("libgcrypt.so.20")
sexp_t = ctypes.c_void_p
lib.gcry_check_version.restype = ctypes.c_char_p
lib.gcry_check_version.argtypes = [ctypes.c_char_p]
lib.gcry_control.restype = ctypes.c_uint
lib.gcry_strerror.restype = ctypes.c_char_p
lib.gcry_strerror.argtypes = [ctypes.c_uint]
lib.gcry_sexp_new.restype = ctypes.c_uint
lib.gcry_sexp_new.argtypes = [ctypes.POINTER(sexp_t), ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
lib.gcry_sexp_sscan.restype = ctypes.c_uint
lib.gcry_sexp_sscan.argtypes = [
    ctypes.POINTER(sexp_t), ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p, ctypes.c_size_t,
]
lib.gcry_sexp_sprint.restype = ctypes.c_size_t
lib.gcry_sexp_sprint.argtypes = [sexp_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
lib.gcry_sexp_release.restype = None
lib.gcry_sexp_release.argtypes = [sexp_t]
lib.gcry_sexp_find_token.restype = sexp_t
lib.gcry_sexp_find_token.argtypes = [sexp_t, ctypes.c_char_p, ctypes.c_size_t]
lib.gcry_sexp_nth_data.restype = ctypes.c_void_p
lib.gcry_sexp_nth_data.argtypes = [sexp_t, ctypes.c_int, ctypes.POINTER(ctypes.c_size_t)]
lib.gcry_pk_genkey.restype = ctypes.c_uint
lib.gcry_pk_genkey.argtypes = [ctypes.POINTER(sexp_t), sexp_t]
lib.gcry_pk_sign.restype = ctypes.c_uint
lib.gcry_pk_sign.argtypes = [ctypes.POINTER(sexp_t), sexp_t, sexp_t]
lib.gcry_pk_verify.restype = ctypes.c_uint
lib.gcry_pk_verify.argtypes = [sexp_t, sexp_t, sexp_t]

VERSION = lib.gcry_check_version(None).decode()
lib.gcry_control(GCRYCTL_DISABLE_SECMEM, 0)
lib.gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0)


class GcryError(Exception):
    def __init__(self, where, code):
        super().__init__(f"{where}: {lib.gcry_strerror(code).decode()}")
        self.code = code & 0xFFFF


def parse(data, where):
    """gcry_sexp_new with autodetect: accepts canonical and advanced forms."""
    if isinstance(data, str):
        data = data.encode()
    out = sexp_t()
    err = lib.gcry_sexp_new(ctypes.byref(out), data, len(data), 1)
    if err:
        raise GcryError(where, err)
    return out


def sprint(sexp, mode):
    n = lib.gcry_sexp_sprint(sexp, mode, None, 0)
    buf = ctypes.create_string_buffer(n)
    written = lib.gcry_sexp_sprint(sexp, mode, buf, n)
    if written == 0:
        raise RuntimeError("gcry_sexp_sprint failed")
    return buf.raw[:written]


def find(sexp, token):
    t = token.encode()
    found = lib.gcry_sexp_find_token(sexp, t, len(t))
    if not found:
        raise RuntimeError(f"no ({token} ...) in s-expression")
    return found


def nth_data(sexp, n):
    size = ctypes.c_size_t()
    ptr = lib.gcry_sexp_nth_data(sexp, n, ctypes.byref(size))
    return ctypes.string_at(ptr, size.value) if ptr else None


def advanced(sexp):
    return sprint(sexp, GCRYSEXP_FMT_ADVANCED).decode("latin-1")


def op_genkey(req):
    params = parse(req.get("params", DEFAULT_GENKEY), "genkey parameters")
    key = sexp_t()
    err = lib.gcry_pk_genkey(ctypes.byref(key), params)
    lib.gcry_sexp_release(params)
    if err:
        raise GcryError("gcry_pk_genkey", err)
    pub = find(key, "public-key")
    sec = find(key, "private-key")
    reply = {"public": advanced(pub), "private": advanced(sec)}
    for s in (pub, sec, key):
        lib.gcry_sexp_release(s)
    return reply


def op_sign(req):
    key = parse(req["key"], "key")
    data_text = req.get("data") or f"(data (flags rfc6979) (hash sha256 #{req['hash']}#))"
    data = parse(data_text, "data")
    sig = sexp_t()
    err = lib.gcry_pk_sign(ctypes.byref(sig), data, key)
    lib.gcry_sexp_release(data)
    lib.gcry_sexp_release(key)
    if err:
        raise GcryError("gcry_pk_sign", err)
    r = find(sig, "r")
    s = find(sig, "s")
    reply = {"sig": advanced(sig), "r": nth_data(r, 1).hex().upper(), "s": nth_data(s, 1).hex().upper()}
    for x in (r, s, sig):
        lib.gcry_sexp_release(x)
    return reply


def op_verify(req):
    sig = parse(req["sig"], "sig-val")
    data = parse(req["data"], "data")
    key = parse(req["key"], "key")
    err = lib.gcry_pk_verify(sig, data, key)
    for x in (sig, data, key):
        lib.gcry_sexp_release(x)
    return {"valid": err == 0, "error": lib.gcry_strerror(err).decode() if err else ""}


def op_sprint(req):
    sexp = parse(base64.b64decode(req["input"]), "input")
    reply = {
        "advanced": base64.b64encode(sprint(sexp, GCRYSEXP_FMT_ADVANCED)).decode(),
        "canonical": base64.b64encode(sprint(sexp, GCRYSEXP_FMT_CANON)).decode(),
    }
    lib.gcry_sexp_release(sexp)
    return reply


def op_bench_verify(req):
    sig = parse(req["sig"], "sig-val")
    data = parse(req["data"], "data")
    key = parse(req["key"], "key")
    count = int(req["count"])
    ok = True
    start = time.perf_counter()
    for _ in range(count):
        ok = lib.gcry_pk_verify(sig, data, key) == 0 and ok
    seconds = time.perf_counter() - start
    for x in (sig, data, key):
        lib.gcry_sexp_release(x)
    return {"seconds": seconds, "valid": ok}


OPS = {
    "version": lambda req: {"version": VERSION},
    "genkey": op_genkey,
    "sign": op_sign,
    "verify": op_verify,
    "sprint": op_sprint,
    "bench_verify": op_bench_verify,
}


def handle(req):
    try:
        reply = OPS[req["op"]](req)
        reply["ok"] = True
        return reply
    except GcryError as e:
        return {"ok": False, "error": str(e), "code": e.code}
    except (KeyError, RuntimeError, ValueError) as e:
        return {"ok": False, "error": f"{type(e).__name__}: {e}", "code": -1}


def main(argv):
    if len(argv) < 2 or argv[1] not in ("version", "genkey", "serve"):
        sys.stderr.write(__doc__)
        return 2
    if argv[1] == "version":
        print(VERSION)
    elif argv[1] == "genkey":
        print(json.dumps(handle({"op": "genkey"})))
    else:
        for line in sys.stdin:
            if line.strip():
                sys.stdout.write(json.dumps(handle(json.loads(line))) + "\n")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
