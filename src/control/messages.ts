/**
 * Control-protocol messages (docs/control-protocol.md): discriminated unions
 * on `kind`, with validators for both directions. Neither side trusts the
 * other's JSON: every field is checked before use.
 *
 * @example
 * ```ts
 * import { parseRequest } from "./messages.ts";
 * parseRequest({ kind: "lookup", id: 1, storePaths: ["/gnu/store/…-hello"] });
 * ```
 * @module
 */
import { POLICIES, type Policy, type SourceKind } from "../fetch/types.ts";
import { ControlProtocolError } from "./errors.ts";

/** Version carried in `hello`; bumped on incompatible changes. */
export const CONTROL_PROTOCOL_VERSION = 1;

/** Error codes of `error` replies; mapped to helper status lines in one place (helper/status.ts). */
export const ERROR_CODES = [
  "not-found",
  "unavailable",
  "hash-mismatch",
  "bad-request",
  "busy",
  "internal",
] as const;
/** An error code. */
export type ErrorCode = typeof ERROR_CODES[number];

/** Client → daemon. */
export type Request =
  | {
    kind: "lookup";
    id: number;
    storePaths: string[];
    urls?: string[];
    policy?: Policy;
  }
  | {
    kind: "fetch";
    id: number;
    storePath: string;
    /**
     * The signed NarHash and NarSize (both or neither). Without them the
     * daemon resolves `storePath` first and answers with a `lookup-result`
     * of that one item before the NAR (one round trip per substitution).
     */
    narHash?: string;
    narSize?: number;
    urls?: string[];
    policy?: Policy;
    /** The client can read a NAR from a file the daemon names (it hashes it itself). */
    files?: boolean;
  }
  | {
    kind: "substituted";
    id: number;
    storePath: string;
    narHash: string;
    narSize: number;
    source: SourceKind;
  }
  | {
    kind: "report";
    id: number;
    storePath: string;
    narHash: string;
    /** What the client found: the NAR it got does not hash to the signed NarHash. */
    outcome: "hash-mismatch";
  }
  | { kind: "admin"; id: number; command: AdminCommand; args: string[] };

/** Admin commands carried by `admin` requests. */
export const ADMIN_COMMANDS = [
  "status",
  "peers",
  "seeds",
  "seed",
  "unseed",
  "transfers",
  "seed-closure",
  "seed-store",
  "seed-jobs",
] as const;
/** An admin command. */
export type AdminCommand = typeof ADMIN_COMMANDS[number];

/** One path's answer to a `lookup`. */
export type LookupItem =
  | { kind: "found"; storePath: string; narinfo: string; cacheUrl: string; providers?: number }
  | { kind: "missing"; storePath: string; reason: string };

/** Daemon → client. */
export type Response =
  | { kind: "lookup-result"; id: number; items: LookupItem[] }
  | {
    kind: "source";
    id: number;
    source: SourceKind;
    url: string;
    offset: number;
    size: number | null;
  }
  | { kind: "progress"; id: number; transferred: number; total: number | null }
  | {
    kind: "file";
    id: number;
    source: SourceKind;
    url: string;
    /** The file holding the NAR from byte 0 (read it as `available` frames say). */
    path: string;
  }
  | { kind: "available"; id: number; bytes: number }
  | { kind: "done"; id: number; bytes: number }
  | { kind: "ok"; id: number }
  | { kind: "admin-result"; id: number; value: unknown }
  | { kind: "error"; id: number; code: ErrorCode; message: string };

// ---- field checks -------------------------------------------------------

type Obj = Record<string, unknown>;

function fail(what: string, value: unknown): never {
  const shown = JSON.stringify(value);
  throw new ControlProtocolError(
    `${what}: got ${
      shown === undefined ? "nothing" : shown.length > 80 ? shown.slice(0, 77) + "..." : shown
    }`,
  );
}

function obj(v: unknown): Obj {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    fail("message must be a JSON object", v);
  }
  return v as Obj;
}

function nat(o: Obj, field: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    fail(`"${o.kind}".${field} must be a non-negative integer`, v);
  }
  return v;
}

function text(o: Obj, field: string, max = 4096): string {
  const v = o[field];
  if (typeof v !== "string" || v.length > max) {
    fail(`"${o.kind}".${field} must be a string of at most ${max} chars`, v);
  }
  return v;
}

function texts(o: Obj, field: string, maxItems: number): string[] {
  const v = o[field];
  if (
    !Array.isArray(v) || v.length > maxItems ||
    !v.every((x) => typeof x === "string" && x.length <= 4096)
  ) {
    fail(`"${o.kind}".${field} must be an array of at most ${maxItems} strings`, v);
  }
  return v as string[];
}

function optional<T>(o: Obj, field: string, read: (o: Obj, f: string) => T): { [k: string]: T } {
  return o[field] === undefined ? {} : { [field]: read(o, field) };
}

function boolean(o: Obj, field: string): boolean {
  const v = o[field];
  if (typeof v !== "boolean") fail(`"${o.kind}".${field} must be true or false`, v);
  return v;
}

function policy(o: Obj, field: string): Policy {
  const v = o[field];
  if (typeof v !== "string" || !(POLICIES as readonly string[]).includes(v)) {
    fail(`"${o.kind}".${field} must be one of ${POLICIES.join(", ")}`, v);
  }
  return v as Policy;
}

function source(o: Obj, field: string): SourceKind {
  const v = o[field];
  if (v !== "http" && v !== "p2p") fail(`"${o.kind}".${field} must be "http" or "p2p"`, v);
  return v;
}

/** Most paths one `lookup` may carry. */
export const MAX_LOOKUP_PATHS = 20000;

/** Validates a client request. @throws {ControlProtocolError} */
export function parseRequest(raw: unknown): Request {
  const o = obj(raw);
  const id = nat(o, "id");
  switch (o.kind) {
    case "lookup":
      return {
        kind: "lookup",
        id,
        storePaths: texts(o, "storePaths", MAX_LOOKUP_PATHS),
        ...optional(o, "urls", (x, f) => texts(x, f, 64)),
        ...optional(o, "policy", policy),
      } as Request;
    case "fetch":
      if ((o.narHash === undefined) !== (o.narSize === undefined)) {
        fail(`"fetch" needs both narHash and narSize, or neither`, o.narHash ?? o.narSize);
      }
      return {
        kind: "fetch",
        id,
        storePath: text(o, "storePath"),
        ...optional(o, "narHash", (x, f) => text(x, f, 128)),
        ...optional(o, "narSize", nat),
        ...optional(o, "urls", (x, f) => texts(x, f, 64)),
        ...optional(o, "policy", policy),
        ...optional(o, "files", boolean),
      } as Request;
    case "report":
      if (o.outcome !== "hash-mismatch") {
        fail(`"report".outcome must be "hash-mismatch"`, o.outcome);
      }
      return {
        kind: "report",
        id,
        storePath: text(o, "storePath"),
        narHash: text(o, "narHash", 128),
        outcome: "hash-mismatch",
      };
    case "substituted":
      return {
        kind: "substituted",
        id,
        storePath: text(o, "storePath"),
        narHash: text(o, "narHash", 128),
        narSize: nat(o, "narSize"),
        source: source(o, "source"),
      };
    case "admin": {
      const command = o.command;
      if (typeof command !== "string" || !(ADMIN_COMMANDS as readonly string[]).includes(command)) {
        fail(`"admin".command must be one of ${ADMIN_COMMANDS.join(", ")}`, command);
      }
      return { kind: "admin", id, command: command as AdminCommand, args: texts(o, "args", 10000) };
    }
    default:
      fail("unknown request kind", o.kind);
  }
}

/** Validates a daemon response. @throws {ControlProtocolError} */
export function parseResponse(raw: unknown): Response {
  const o = obj(raw);
  const id = nat(o, "id");
  switch (o.kind) {
    case "lookup-result": {
      const items = o.items;
      if (!Array.isArray(items) || items.length > MAX_LOOKUP_PATHS) {
        fail(`"lookup-result".items must be an array`, items);
      }
      return { kind: "lookup-result", id, items: items.map(parseLookupItem) };
    }
    case "source":
      return {
        kind: "source",
        id,
        source: source(o, "source"),
        url: text(o, "url"),
        offset: nat(o, "offset"),
        size: o.size === null ? null : nat(o, "size"),
      };
    case "progress":
      return {
        kind: "progress",
        id,
        transferred: nat(o, "transferred"),
        total: o.total === null || o.total === undefined ? null : nat(o, "total"),
      };
    case "file":
      return {
        kind: "file",
        id,
        source: source(o, "source"),
        url: text(o, "url"),
        path: text(o, "path"),
      };
    case "available":
      return { kind: "available", id, bytes: nat(o, "bytes") };
    case "done":
      return { kind: "done", id, bytes: nat(o, "bytes") };
    case "ok":
      return { kind: "ok", id };
    case "admin-result":
      return { kind: "admin-result", id, value: o.value };
    case "error": {
      const code = o.code;
      if (typeof code !== "string" || !(ERROR_CODES as readonly string[]).includes(code)) {
        fail(`"error".code must be one of ${ERROR_CODES.join(", ")}`, code);
      }
      return { kind: "error", id, code: code as ErrorCode, message: text(o, "message", 65536) };
    }
    default:
      fail("unknown response kind", o.kind);
  }
}

function parseLookupItem(raw: unknown): LookupItem {
  const o = obj(raw);
  if (o.kind === "found") {
    return {
      kind: "found",
      storePath: text(o, "storePath"),
      narinfo: text(o, "narinfo", 1024 * 1024),
      cacheUrl: text(o, "cacheUrl"),
      ...optional(o, "providers", nat),
    } as LookupItem;
  }
  if (o.kind === "missing") {
    return { kind: "missing", storePath: text(o, "storePath"), reason: text(o, "reason") };
  }
  fail('lookup item kind must be "found" or "missing"', o.kind);
}
