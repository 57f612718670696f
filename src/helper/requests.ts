/**
 * Request lines from guix-daemon (../shared/docs/guix-substitute-protocol.md §2.1, §3.1),
 * validated strictly (§6.2 rule 1): every path must be a store path under the
 * store directory, and a `substitute` destination must be the path itself or
 * `<path>.tmp` (repair) — never anything else.
 *
 * @example
 * ```ts
 * import { parseQueryLine } from "./requests.ts";
 * parseQueryLine("have /gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test \n", "/gnu/store");
 * // { kind: "have", paths: ["/gnu/store/1jjb…-hello-test"] }
 * ```
 * @module
 */
import { parseStorePath } from "../store/store_path.ts";
import { RequestError } from "./errors.ts";

/** A `--query` request. */
export type QueryRequest =
  | { kind: "have"; paths: string[] }
  | { kind: "info"; paths: string[] }
  | { kind: "empty" };

/** A `--substitute` request. */
export type SubstituteRequest =
  | { kind: "substitute"; storePath: string; dest: string }
  | { kind: "empty" };

const MAX_LINE = 16 * 1024 * 1024;

function tokens(line: string): string[] {
  if (line.length > MAX_LINE) {
    throw new RequestError(`request line of ${line.length} bytes is too long`);
  }
  return line.split(/[ \t\r\n\f\v]+/).filter((t) => t !== "");
}

function clip(line: string): string {
  const trimmed = line.replace(/\n$/, "");
  return JSON.stringify(trimmed.length > 120 ? trimmed.slice(0, 117) + "..." : trimmed);
}

function storePath(token: string, storeDir: string, line: string): string {
  try {
    return parseStorePath(token, storeDir).path;
  } catch (e) {
    throw new RequestError(`${(e as Error).message} (in request ${clip(line)})`);
  }
}

/** Parses a query-mode line. @throws {RequestError} */
export function parseQueryLine(line: string, storeDir: string): QueryRequest {
  const [command, ...args] = tokens(line);
  if (command === undefined) return { kind: "empty" };
  if (command !== "have" && command !== "info") {
    throw new RequestError(
      `unknown query command "${command.slice(0, 40)}" in ${clip(line)} (expected have or info)`,
    );
  }
  const paths = [...new Set(args.map((t) => storePath(t, storeDir, line)))];
  return { kind: command, paths };
}

/** Parses a substitute-mode line. @throws {RequestError} */
export function parseSubstituteLine(line: string, storeDir: string): SubstituteRequest {
  const parts = tokens(line);
  if (parts.length === 0) return { kind: "empty" };
  const [command, store, dest, ...extra] = parts;
  if (command !== "substitute" || store === undefined || dest === undefined || extra.length > 0) {
    throw new RequestError(
      `malformed request ${clip(line)} (expected "substitute STORE-PATH DESTINATION")`,
    );
  }
  const storePathText = storePath(store, storeDir, line);
  if (dest !== storePathText && dest !== `${storePathText}.tmp`) {
    throw new RequestError(
      `refusing destination "${dest}" for ${storePathText}: it must be the store path itself or "<path>.tmp"`,
    );
  }
  return { kind: "substitute", storePath: storePathText, dest };
}
