/**
 * One parser for Guix and Nix narinfos (../shared/docs/guix-substitute-protocol.md §4.1–§4.2,
 * §6.2; ../shared/docs/nix-binary-cache.md §3.3). The record is read with Guix's recutils
 * rules; `URL`, `Compression`, `FileSize` and `FileHash` are multi-valued and
 * zipped by position wherever they appear (before or after `Signature:`),
 * `Sig` may repeat, and every other field takes its first occurrence. Fields
 * are validated before anything can use them: store paths and base names,
 * `NarHash`, sizes, URL schemes.
 *
 * @example
 * ```ts
 * import { parseNarinfo } from "./parse.ts";
 * const info = parseNarinfo(
 *   "StorePath: /gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test\n" +
 *     "NarHash: sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s\n" +
 *     "NarSize: 1064\nReferences: \n" +
 *     "URL: nar/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test\nCompression: none\n",
 * );
 * info.entries[0]!.compression; // "none"
 * ```
 * @module
 */
import { EncodingError } from "../encoding/errors.ts";
import { parseNarHash } from "../hash/nar_hash.ts";
import { StorePathError } from "../store/errors.ts";
import { parseStoreBaseName, parseStorePath } from "../store/store_path.ts";
import { quote } from "./_quote.ts";
import { NarinfoError } from "./errors.ts";
import type { Narinfo, NarinfoEntry } from "./narinfo.ts";
import { parseRecutils, type RecutilsField } from "./recutils.ts";

/** Options of {@linkcode parseNarinfo}. */
export interface ParseNarinfoOptions {
  /**
   * `"nix"` also accepts the base16 and SRI `NarHash` forms and treats
   * `Deriver: unknown-deriver` as no deriver. Default `"guix"`.
   */
  flavour?: "guix" | "nix";
  /** When given, `StorePath` must be directly under this store directory. */
  storeDir?: string;
}

/** Fields that may repeat, zipped by position into entries. */
export const MULTI_VALUED_FIELDS: readonly string[] = [
  "URL",
  "Compression",
  "FileSize",
  "FileHash",
];

/** Substring that starts Guix's signature: the signed bytes are everything before it. */
export const SIGNATURE_MARKER = "Signature:";

const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const ALLOWED_SCHEMES = new Set(["http", "https", "file"]);
const DECIMAL = /^[0-9]+$/;

/**
 * Parses and validates a narinfo.
 *
 * @throws {NarinfoError} with the line number and field of the first problem,
 * e.g. `narinfo line 3: NarSize: not a non-negative integer: "12x"`.
 */
export function parseNarinfo(
  input: string | Uint8Array,
  options: ParseNarinfoOptions = {},
): Narinfo {
  const text = typeof input === "string" ? input : decodeUtf8(input);
  const { fields } = parseRecutils(text);
  const nix = options.flavour === "nix";

  const first = new Map<string, RecutilsField>();
  const multi = new Map<string, RecutilsField[]>(MULTI_VALUED_FIELDS.map((n) => [n, []]));
  const sigs: string[] = [];
  for (const f of fields) {
    const many = multi.get(f.name);
    if (many) many.push(f);
    else if (f.name === "Sig") sigs.push(f.value);
    else if (!first.has(f.name)) first.set(f.name, f);
  }

  const storePathField = required(first, "StorePath");
  const storePath = storePathField.value;
  if (!storePath.startsWith("/") || storePath.lastIndexOf("/") === 0) {
    throw new NarinfoError(`not an absolute path inside a store directory: ${quote(storePath)}`, {
      line: storePathField.line,
      field: storePathField.name,
    });
  }
  const storeDir = checkField(storePathField, () => {
    const dir = options.storeDir ?? storePath.slice(0, storePath.lastIndexOf("/"));
    return parseStorePath(storePath, dir).storeDir;
  });

  const narHashField = required(first, "NarHash");
  const narHashDigest = checkField(
    narHashField,
    () => parseNarHash(narHashField.value, { lenient: nix }),
  );
  const narSize = parseSize(required(first, "NarSize"));

  const referencesField = required(first, "References");
  const references = referencesField.value.split(/\s+/).filter((r) => r !== "");
  for (const ref of references) checkField(referencesField, () => parseStoreBaseName(ref));

  const deriverField = first.get("Deriver");
  let deriver: string | undefined = deriverField?.value || undefined;
  if (nix && deriver === "unknown-deriver") deriver = undefined;
  if (deriver !== undefined) checkField(deriverField!, () => parseStoreBaseName(deriver!));

  const urls = multi.get("URL")!;
  const compressions = multi.get("Compression")!;
  const sizes = multi.get("FileSize")!;
  const hashes = multi.get("FileHash")!;
  for (const f of compressions) {
    if (f.value === "") throw new NarinfoError("empty value", { line: f.line, field: f.name });
  }
  const entries: NarinfoEntry[] = urls.map((urlField, i) => {
    const entry: { -readonly [K in keyof NarinfoEntry]: NarinfoEntry[K] } = {
      url: checkUrl(urlField),
    };
    if (compressions[i] !== undefined) entry.compression = compressions[i]!.value;
    if (sizes[i] !== undefined) entry.fileSize = parseSize(sizes[i]!);
    if (hashes[i]?.value) entry.fileHash = hashes[i]!.value;
    return entry;
  });
  for (const f of sizes.slice(urls.length)) parseSize(f);

  const marker = text.indexOf(SIGNATURE_MARKER);
  return {
    text,
    signedPrefix: marker < 0 ? undefined : text.slice(0, marker),
    storePath,
    storeDir,
    narHash: narHashField.value,
    narHashDigest,
    narSize,
    references,
    deriver,
    system: first.get("System")?.value,
    ca: first.get("CA")?.value || undefined,
    signature: first.get("Signature")?.value,
    sigs,
    entries,
    fields,
  };
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new NarinfoError("not valid UTF-8");
  }
}

function required(first: Map<string, RecutilsField>, name: string): RecutilsField {
  const f = first.get(name);
  if (!f) throw new NarinfoError("missing mandatory field", { field: name });
  return f;
}

function checkField<T>(field: RecutilsField, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof StorePathError || e instanceof EncodingError) {
      throw new NarinfoError(e.message, { line: field.line, field: field.name });
    }
    throw e;
  }
}

function parseSize(field: RecutilsField): number {
  const n = DECIMAL.test(field.value) ? Number(field.value) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new NarinfoError(
      DECIMAL.test(field.value)
        ? `larger than 2^53 - 1: ${quote(field.value)}`
        : `not a non-negative integer: ${quote(field.value)}`,
      { line: field.line, field: field.name },
    );
  }
  return n;
}

function checkUrl(field: RecutilsField): string {
  const url = field.value;
  if (url === "") throw new NarinfoError("empty URL", { line: field.line, field: field.name });
  const scheme = URL_SCHEME.exec(url)?.[1];
  if (scheme !== undefined && !ALLOWED_SCHEMES.has(scheme.toLowerCase())) {
    throw new NarinfoError(
      `scheme "${scheme}" not allowed (http, https, file or a relative URL): ${quote(url)}`,
      { line: field.line, field: field.name },
    );
  }
  if (/[\s\0]/.test(url)) {
    throw new NarinfoError(`URL contains whitespace or NUL: ${quote(url)}`, {
      line: field.line,
      field: field.name,
    });
  }
  return url;
}
