/**
 * Messages of the narinfo exchange `/guix-p2p/narinfo/1.0.0` (docs/protocol.md
 * §4): a requester asks a peer for the signed narinfos it holds, by store-path
 * hash part, a whole closure's batch in one request; the peer answers every
 * hash part in order, with the narinfo text byte for byte as signed or an
 * explicit "not held". Discriminated on `kind`, with the protocol's limits.
 *
 * @example
 * ```ts
 * import type { NarinfoWireMessage } from "./messages.ts";
 * const ask: NarinfoWireMessage = {
 *   kind: "get-narinfos",
 *   id: 1,
 *   flavour: "guix",
 *   keys: [new Uint8Array(32)],
 *   hashParts: ["0ad3jr1jlg1p2sfxbqcyvgmr3bf5mcrc"],
 * };
 * ```
 * @module
 */

/** The libp2p protocol id of the narinfo exchange. */
export const NARINFO_PROTOCOL = "/guix-p2p/narinfo/1.0.0";
/** The payload version byte. */
export const NARINFO_WIRE_VERSION = 1;
/** Largest payload of any frame of this protocol: 2 MiB. */
export const MAX_NARINFO_MESSAGE = 2 * 1024 * 1024;
/** Largest payload of a request (16 keys and 1024 hash parts fit with room to spare). */
export const MAX_NARINFO_REQUEST = 64 * 1024;
/** Most hash parts in one `GET_NARINFOS`. */
export const MAX_HASH_PARTS = 1024;
/** Most trusted keys in one `GET_NARINFOS`. */
export const MAX_KEYS = 16;
/** Largest narinfo text carried (bytes of UTF-8): 1 MiB, as over HTTP. */
export const MAX_NARINFO_TEXT = 1024 * 1024;
/** Most bytes of UTF-8 in an `ERROR` message. */
export const MAX_NARINFO_ERROR_BYTES = 1024;
/** Length of a store-path hash part (nix32 characters). */
export const HASH_PART_LENGTH = 32;
/** Length of a public key in a request. */
export const KEY_LENGTH = 32;

/** Message type bytes (§6.2). */
export const NarinfoMessageType = {
  GET_NARINFOS: 1,
  NARINFOS: 2,
  ERROR: 3,
} as const;

/** Which store a request is about: Guix (`/gnu/store`, the ACL) or Nix (`/nix/store`, Nix keys). */
export type NarinfoFlavour = "guix" | "nix";
/** The wire value of each {@linkcode NarinfoFlavour}. */
export const FLAVOUR_VALUES: Readonly<Record<NarinfoFlavour, number>> = { guix: 1, nix: 2 };

/** `ERROR` codes by name. */
export type NarinfoErrorCode = "busy" | "bad-request" | "internal";
/** The wire value of each {@linkcode NarinfoErrorCode}. */
export const NARINFO_ERROR_VALUES: Readonly<Record<NarinfoErrorCode, number>> = {
  "busy": 1,
  "bad-request": 2,
  "internal": 3,
};

/**
 * Asks for the narinfos of `hashParts` signed by one of `keys` (the
 * requester's trusted public keys: 32-byte Ed25519 points of its Guix ACL,
 * or its Nix `trusted-public-keys`), so an honest responder never sends one
 * the requester would refuse.
 */
export interface GetNarinfosMessage {
  /** Discriminant. */
  kind: "get-narinfos";
  /** Request id (u32). */
  id: number;
  /** Guix or Nix narinfos. */
  flavour: NarinfoFlavour;
  /** 1 to 16 public keys (32 bytes each). */
  keys: Uint8Array[];
  /** 1 to 1024 store-path hash parts (32 nix32 characters each). */
  hashParts: string[];
}

/**
 * Answers to a `get-narinfos`, in request order: entry `i` answers hash part
 * `first + i`. A request is answered by one or more of these (each within
 * the frame limit), `first` continuing where the previous one stopped.
 */
export interface NarinfosMessage {
  /** Discriminant. */
  kind: "narinfos";
  /** Id of the `get-narinfos` it answers. */
  id: number;
  /** Index of the first hash part answered here. */
  first: number;
  /** The narinfo text as signed, or null: not held (at least one entry). */
  entries: (string | null)[];
}

/** The request failed as a whole (rate limit, bad request). */
export interface NarinfoErrorMessage {
  /** Discriminant. */
  kind: "error";
  /** Id of the request it answers. */
  id: number;
  /** What went wrong. */
  code: NarinfoErrorCode;
  /** Human-readable detail (at most 1024 bytes of UTF-8 on the wire). */
  message: string;
}

/** Any message of the narinfo exchange. */
export type NarinfoWireMessage = GetNarinfosMessage | NarinfosMessage | NarinfoErrorMessage;

/** Which messages a decoder accepts: a responder reads requests, a requester responses. */
export type NarinfoAccept = "requests" | "responses";
