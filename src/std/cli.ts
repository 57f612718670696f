/**
 * Command-line flag parsing: the one place that knows the parser.
 *
 * The design names `jsr:@std/cli`, which our machines cannot fetch; this wraps
 * `node:util` `parseArgs` behind a small std-like surface so the swap back is
 * confined to this file.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./cli.ts";
 * const { flags, positionals } = parseFlags(["--json", "x"], {
 *   boolean: ["json"],
 *   string: ["config"],
 * });
 * flags.json; // true
 * positionals; // ["x"]
 * ```
 * @module
 */
import { parseArgs } from "node:util";

/** A flag the user got wrong: unknown, missing its value, or of the wrong kind. */
export class UsageError extends Error {
  /** Creates the error with a message naming the offending flag. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Which flags a command accepts. */
export interface FlagSpec<
  B extends string = string,
  S extends string = string,
  M extends string = string,
> {
  /** Flags without a value. */
  boolean?: readonly B[];
  /** Flags with one string value (the last occurrence wins). */
  string?: readonly S[];
  /** Flags with a string value that may repeat. */
  collect?: readonly M[];
  /** Single-letter aliases, e.g. `{ h: "help" }`. */
  alias?: Readonly<Record<string, B | S | M>>;
  /** Whether positional arguments are allowed (default true). */
  positionals?: boolean;
}

/** Parsed flags: booleans are `true` when given, strings `undefined` when absent. */
export type Flags<B extends string, S extends string, M extends string> =
  & { [K in B]: boolean }
  & { [K in S]: string | undefined }
  & { [K in M]: string[] };

/**
 * Parses `args` against `spec`.
 * @throws {UsageError} on an unknown flag, a missing value or an unexpected positional.
 */
export function parseFlags<
  B extends string = never,
  S extends string = never,
  M extends string = never,
>(
  args: readonly string[],
  spec: FlagSpec<B, S, M>,
): { flags: Flags<B, S, M>; positionals: string[] } {
  const options: Record<
    string,
    { type: "boolean" | "string"; multiple?: boolean; short?: string }
  > = {};
  for (const name of spec.boolean ?? []) options[name] = { type: "boolean" };
  for (const name of spec.string ?? []) options[name] = { type: "string" };
  for (const name of spec.collect ?? []) options[name] = { type: "string", multiple: true };
  for (const [short, long] of Object.entries(spec.alias ?? {})) {
    const option = options[long];
    if (option) option.short = short;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options,
      allowPositionals: spec.positionals ?? true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(cleanMessage(e));
  }
  const flags: Record<string, unknown> = {};
  for (const name of spec.boolean ?? []) flags[name] = parsed.values[name] === true;
  for (const name of spec.string ?? []) flags[name] = parsed.values[name];
  for (const name of spec.collect ?? []) flags[name] = parsed.values[name] ?? [];
  return { flags: flags as Flags<B, S, M>, positionals: parsed.positionals };
}

function cleanMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  // node:util appends advice about "--" that does not apply to our commands.
  return message.replace(/\. To specify a positional argument.*$/s, "");
}
