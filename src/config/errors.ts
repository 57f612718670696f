/**
 * Configuration errors.
 * @module
 */

/** Where a configuration value came from: a file (with its line) or the command line. */
export type ConfigOrigin =
  | { kind: "file"; file: string; line?: number | undefined }
  | { kind: "flag"; flag: string }
  | { kind: "env"; variable: string };

/**
 * A configuration value is wrong: unknown key, wrong type, bad URL or multiaddr,
 * out-of-range number, or a TOML syntax error. The message names the origin
 * (file and line, or flag), the key and the offending value.
 */
export class ConfigError extends Error {
  /** The key at fault, when known. */
  readonly key: string | undefined;
  /** Where the value came from. */
  readonly origin: ConfigOrigin | undefined;

  /** Creates the error; `detail` says what is wrong with the value. */
  constructor(detail: string, options: { key?: string; origin?: ConfigOrigin } = {}) {
    super(
      `${describeOrigin(options.origin)}${options.key ? `key "${options.key}": ` : ""}${detail}`,
    );
    this.name = "ConfigError";
    this.key = options.key;
    this.origin = options.origin;
  }
}

function describeOrigin(origin: ConfigOrigin | undefined): string {
  if (!origin) return "";
  switch (origin.kind) {
    case "file":
      return origin.line === undefined ? `${origin.file}: ` : `${origin.file}:${origin.line}: `;
    case "flag":
      return `command line ${origin.flag}: `;
    case "env":
      return `environment ${origin.variable}: `;
  }
}
