/**
 * Value parsers for configuration keys: each takes an unknown TOML value and
 * returns the typed value, or throws a plain `Error` whose message says what
 * was expected and what was found (the caller adds file, line and key).
 * @module
 */
import { checkMultiaddr, checkTcpListenAddress } from "./multiaddr_check.ts";

/** A value parser. */
export type ValueParser<T> = (value: unknown) => T;

/** Renders an unknown value for an error message. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  if (value !== null && typeof value === "object") return "a table";
  return String(value);
}

/** A string. */
export const str: ValueParser<string> = (v) => {
  if (typeof v !== "string") throw new Error(`expected a string, got ${show(v)}`);
  return v;
};

/** An absolute path. */
export const absPath: ValueParser<string> = (v) => {
  const s = str(v);
  if (!s.startsWith("/")) throw new Error(`expected an absolute path, got ${show(v)}`);
  return s.length > 1 ? s.replace(/\/+$/, "") : s;
};

/** A boolean. */
export const bool: ValueParser<boolean> = (v) => {
  if (typeof v !== "boolean") throw new Error(`expected true or false, got ${show(v)}`);
  return v;
};

/** An integer in `[min, max]`. */
export function int(min: number, max: number): ValueParser<number> {
  return (v) => {
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isSafeInteger(n)) {
      throw new Error(`expected an integer, got ${show(v)}`);
    }
    if (n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(values: readonly T[]): ValueParser<T> {
  return (v) => {
    if (typeof v !== "string" || !values.includes(v as T)) {
      throw new Error(`expected one of ${values.map((x) => `"${x}"`).join(", ")}, got ${show(v)}`);
    }
    return v as T;
  };
}

/** An array whose every element passes `item` (errors name the element index). */
export function list<T>(item: ValueParser<T>): ValueParser<T[]> {
  return (v) => {
    if (!Array.isArray(v)) throw new Error(`expected an array, got ${show(v)}`);
    return v.map((x, i) => {
      try {
        return item(x);
      } catch (e) {
        throw new Error(`element ${i}: ${(e as Error).message}`);
      }
    });
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** A duration in seconds: a non-negative number of seconds, or a string like "36h", "2m", "1h30m", "500ms". */
export function duration(maxSeconds = 365 * 86400): ValueParser<number> {
  return (v) => {
    let seconds: number;
    if (typeof v === "number" && Number.isFinite(v)) seconds = v;
    else if (typeof v === "string" && /^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(v.trim())) {
      seconds = 0;
      for (const [, num, unit] of v.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
        seconds += Number(num) * DURATION_UNITS[unit!]!;
      }
    } else {
      throw new Error(`expected a duration (seconds, or e.g. "30s", "2m", "36h"), got ${show(v)}`);
    }
    if (seconds < 0 || seconds > maxSeconds) {
      throw new Error(`expected a duration from 0 to ${maxSeconds} seconds, got ${show(v)}`);
    }
    return seconds;
  };
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

/**
 * A byte count: an integer, or a string like "256KiB", "10GiB", "20MB"; with
 * `perSecond`, a trailing "/s" is allowed ("20MB/s").
 */
export function bytes(min: number, max: number, perSecond = false): ValueParser<number> {
  return (v) => {
    let n: number;
    if (typeof v === "number" && Number.isSafeInteger(v)) n = v;
    else if (typeof v === "string") {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*(\/s)?\s*$/i.exec(v);
      const unit = m?.[2]?.toLowerCase() ?? "";
      if (!m || !(unit in SIZE_UNITS) || (m[3] && !perSecond)) {
        throw new Error(
          `expected a size (bytes, or e.g. "256KiB", "10GiB"${
            perSecond ? ', "20MB/s"' : ""
          }), got ${show(v)}`,
        );
      }
      n = Math.round(Number(m[1]) * SIZE_UNITS[unit]!);
    } else {
      throw new Error(`expected a size in bytes, got ${show(v)}`);
    }
    if (n < min || n > max) {
      throw new Error(`expected a size from ${min} to ${max} bytes, got ${show(v)}`);
    }
    return n;
  };
}

/** An http(s) (or, with `allowFile`, file) URL without query or fragment; trailing slashes stripped. */
export function url(allowFile = true): ValueParser<string> {
  return (v) => {
    const s = str(v);
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new Error(`not a valid URL: ${show(v)}`);
    }
    const schemes = allowFile ? ["http:", "https:", "file:"] : ["http:", "https:"];
    if (!schemes.includes(u.protocol)) {
      throw new Error(
        `URL scheme must be ${schemes.map((x) => x.slice(0, -1)).join(" or ")}: ${show(v)}`,
      );
    }
    if (u.search || u.hash || u.username || u.password) {
      throw new Error(`URL must not carry credentials, a query or a fragment: ${show(v)}`);
    }
    return s.replace(/\/+$/, "");
  };
}

/** A libp2p multiaddr; with `requirePeerId`, it must end in `/p2p/<peer id>`. */
export function multiaddrText(requirePeerId: boolean): ValueParser<string> {
  return (v) => {
    const s = str(v);
    let text: string;
    try {
      text = checkMultiaddr(s);
    } catch (e) {
      throw new Error(`not a valid multiaddr: ${show(v)}: ${(e as Error).message}`);
    }
    if (requirePeerId && !/\/p2p\/[^/]+$/.test(text)) {
      throw new Error(`multiaddr must end in /p2p/<peer id>: ${show(v)}`);
    }
    return text;
  };
}

/** A multiaddr the TCP-only node can listen on (`/ip4/HOST/tcp/PORT`). */
export const tcpListenMultiaddr: ValueParser<string> = (v) => {
  const text = multiaddrText(false)(v);
  try {
    return checkTcpListenAddress(text);
  } catch (e) {
    throw new Error((e as Error).message);
  }
};

/** `host:port` where host is an IP literal or `localhost`. */
export const listenAddress: ValueParser<string> = (v) => {
  const s = str(v);
  if (s === "") return s;
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) {
    throw new Error(
      `expected "HOST:PORT" (e.g. "127.0.0.1:8380") or "" to disable, got ${show(v)}`,
    );
  }
  return s;
};

/** A Nix public key `name:base64(32 bytes)`. */
export const nixPublicKey: ValueParser<string> = (v) => {
  const s = str(v);
  const m = /^([^:\s]+):([A-Za-z0-9+/]{43}=)$/.exec(s);
  if (!m) throw new Error(`expected a Nix public key "name:base64" (32-byte key), got ${show(v)}`);
  return s;
};
