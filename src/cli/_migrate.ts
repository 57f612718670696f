/**
 * `guix-p2p config migrate`: a configuration of the original guix-p2p
 * rewritten in this guix-p2p's keys (see `src/config/legacy.ts`), as TOML
 * text with a comment on every translated key and the dropped keys listed
 * at the end. The result is validated before it is returned.
 *
 * @example
 * ```ts
 * import { migrateConfigText } from "./_migrate.ts";
 * const r = migrateConfigText("old.toml", 'listen_addr = "/ip4/0.0.0.0/tcp/6881"\n', Deno.env);
 * r.text; // '...listen = ["/ip4/0.0.0.0/tcp/6881"]\n...'
 * ```
 * @module
 */
import { parse as parseToml, stringify } from "@std/toml";
import {
  CONFIG_KEYS,
  ConfigError,
  type Env,
  findKeyLine,
  resolveConfig,
  translateLegacy,
} from "../config/mod.ts";

/** The new file's text and the notes on what changed. */
export interface Migration {
  text: string;
  /** One line per original key: `FILE:LINE: …`. */
  warnings: string[];
}

/** Migrates `text` (the file at `path`). @throws {ConfigError} for bad TOML or values. */
export function migrateConfigText(path: string, text: string, env: Env): Migration {
  let table: Record<string, unknown>;
  try {
    table = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`TOML syntax error: ${(e as Error).message.split("\n")[0]}`, {
      origin: { kind: "file", file: path },
    });
  }
  const r = translateLegacy(table);
  for (const e of r.errors) {
    const line = findKeyLine(text, e.key);
    throw new ConfigError(e.message, {
      key: e.key,
      origin: { kind: "file", file: path, ...(line ? { line } : {}) },
    });
  }
  const noteOf = new Map<string, string[]>();
  for (const w of r.warnings) {
    for (const k of w.newKeys) noteOf.set(k, [...(noteOf.get(k) ?? []), w.message]);
  }
  const out = [
    `# guix-p2p configuration, migrated by \`guix-p2p config migrate\` from ${path}.`,
    "# Keys and defaults: docs/configuration.md. Check it with `guix-p2p config check FILE`.",
    "",
  ];
  const known = new Set(CONFIG_KEYS.map((k) => k.key as string));
  for (const spec of CONFIG_KEYS) {
    if (!Object.hasOwn(r.values, spec.key)) continue;
    for (const note of noteOf.get(spec.key) ?? []) out.push(...comment(note));
    out.push(stringify({ [spec.key]: r.values[spec.key] }).trimEnd());
  }
  // Keys neither ours nor the original's are left for `config check` to name.
  for (const [key, value] of Object.entries(r.values)) {
    if (!known.has(key)) out.push(stringify({ [key]: value }).trimEnd());
  }
  const dropped = Object.entries(r.dropped);
  if (dropped.length > 0) {
    out.push("", "# Keys of the original guix-p2p with no equivalent here:");
    for (const [key, value] of dropped) {
      const why = r.warnings.find((w) => w.key === key)?.message.replace(/^.*dropped: /, "") ?? "";
      out.push(`#   ${stringify({ [key]: value }).trim()}  (${why})`);
    }
  }
  const newText = out.join("\n") + "\n";
  // The result must be a valid configuration on its own.
  resolveConfig({ env, file: { path: `${path} (migrated)`, text: newText } });
  const warnings = r.warnings.map((w) => {
    const line = findKeyLine(text, w.key);
    return `${path}${line ? `:${line}` : ""}: ${w.message}`;
  });
  return { text: newText, warnings };
}

function comment(text: string): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > 98 && line !== "#") {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}
