/**
 * Renders configurations as text: the commented starter file of `config init`,
 * the effective configuration of `config check`, and docs/configuration.md.
 *
 * @example
 * ```ts
 * import { starterFile } from "./render.ts";
 * starterFile().startsWith("# guix-p2p configuration"); // true
 * ```
 * @module
 */
import { stringify } from "@std/toml";
import { type Config, CONFIG_KEYS } from "./schema.ts";

function sections(): Map<string, typeof CONFIG_KEYS[number][]> {
  const out = new Map<string, typeof CONFIG_KEYS[number][]>();
  for (const spec of CONFIG_KEYS) {
    const list = out.get(spec.section) ?? [];
    list.push(spec);
    out.set(spec.section, list);
  }
  return out;
}

function wrap(text: string, width: number, prefix: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(prefix + line);
  return lines;
}

/** The commented starter file written by `guix-p2p config init`: every key, commented out at its default. */
export function starterFile(): string {
  const out = [
    "# guix-p2p configuration (TOML). Every key is optional; the value shown is the default.",
    "# Uncomment and edit. `guix-p2p config check` validates this file and prints the result.",
    "# Reference: docs/configuration.md",
    "",
  ];
  for (const [section, specs] of sections()) {
    out.push(`# ---- ${section} ----`, "");
    for (const spec of specs) {
      out.push(...wrap(spec.doc, 96, "# "));
      if (spec.example !== undefined) {
        out.push(`# Default: ${spec.defaultText}.`, `# ${spec.key} = ${spec.example}`, "");
      } else out.push(`# ${spec.key} = ${spec.defaultText}`, "");
    }
  }
  return out.join("\n");
}

/** The effective configuration as TOML. */
export function configToToml(config: Config): string {
  const ordered: Record<string, unknown> = {};
  for (const spec of CONFIG_KEYS) ordered[spec.key] = config[spec.key];
  return stringify(ordered);
}

/** The effective configuration as pretty JSON. */
export function configToJson(config: Config): string {
  const ordered: Record<string, unknown> = {};
  for (const spec of CONFIG_KEYS) ordered[spec.key] = config[spec.key];
  return JSON.stringify(ordered, null, 2);
}

/** The body of docs/configuration.md, generated from the schema. */
export function configurationMarkdown(): string {
  const out = [
    "# Configuration",
    "",
    "guix-p2p reads TOML from `--config FILE`, else `$GUIX_P2P_CONFIG`, else",
    "`$XDG_CONFIG_HOME/guix-p2p/config.toml`, else `~/.config/guix-p2p/config.toml`. A missing file",
    "means all defaults; a file that exists must be valid. All keys are top-level. Command-line flags",
    "override the file (`--set KEY=VALUE` works for every key; values are TOML, e.g.",
    "`--set 'listen=[\"/ip4/127.0.0.1/tcp/0\"]'`). `guix-p2p config check [FILE]` validates and prints",
    "the effective configuration; `guix-p2p config init [FILE]` writes a commented starter file and",
    "never overwrites one.",
    "",
    "Any error — TOML syntax, an unknown key, a wrong type, a bad URL or multiaddr, an out-of-range",
    "number — stops the program with a message naming the file, the line and the key.",
    "",
    'Durations are seconds or strings such as `"30s"`, `"2m"`, `"36h"`, `"1h30m"`. Sizes are bytes or',
    'strings such as `"256KiB"`, `"10GiB"`, `"20MB"` (rates also `"20MB/s"`).',
    "",
    "This file is generated from `src/config/schema.ts` (a test checks it is up to date:",
    "`./dev deno run -A src/config/render.ts > docs/configuration.md` regenerates it).",
    "",
  ];
  for (const [section, specs] of sections()) {
    out.push(`## ${section}`, "", "| Key | Default | Meaning |", "|---|---|---|");
    for (const spec of specs) {
      out.push(
        `| \`${spec.key}\` | \`${spec.defaultText.replaceAll("|", "\\|")}\` | ${
          spec.doc.replaceAll("|", "\\|")
        } |`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}

if (import.meta.main) {
  console.log(configurationMarkdown());
}
