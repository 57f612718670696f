/**
 * Which daemon the admin CLI talks to. When nothing names a socket — no
 * `--socket`, `--config`, `--cache-dir` or `--set socket_path|cache_dir`, no
 * `$GUIX_P2P_CONFIG` or `$GUIX_P2P_SOCKET`, and the per-user config file
 * (if any) sets neither `socket_path` nor `cache_dir` — the CLI tries, in
 * order, the user's own daemon (`<cache_dir>/control.sock`, by default
 * `~/.cache/guix-p2p/control.sock`) and the system service's (the
 * `socket_path` of `/etc/guix-p2p/config.toml`, by default
 * `/run/guix-p2p/control.sock`), and says which one answered.
 * `$GUIX_P2P_SERVICE_CONFIG` names another service config file (a
 * distribution that installs it elsewhere).
 *
 * @example
 * ```ts
 * import { daemonCandidates } from "./_locate.ts";
 * daemonCandidates({ explicit: false, userSocket: "/home/a/.cache/guix-p2p/control.sock" });
 * // [{ socket: "/home/a/…/control.sock", origin: "user" },
 * //  { socket: "/run/guix-p2p/control.sock", origin: "service", configFile: "/etc/guix-p2p/config.toml" }]
 * ```
 * @module
 */
import {
  type Config,
  type ConfigOverride,
  findKeyLine,
  loadConfig,
  resolveConfig,
} from "../config/mod.ts";
import type { FrameConnection } from "../control/connection.ts";
import { connectControlSocket } from "../control/deno_socket.ts";
import { ControlConnectionError } from "../control/errors.ts";

/** The system service's configuration file (docs/guix.md). */
export const SERVICE_CONFIG = "/etc/guix-p2p/config.toml";
/** The system service's control socket when its configuration does not say. */
export const SERVICE_SOCKET = "/run/guix-p2p/control.sock";

/** Where a daemon may listen, and why the CLI looks there. */
export interface DaemonCandidate {
  socket: string;
  /** `explicit`: named by a flag, the environment or a config file; `user`/`service`: searched. */
  origin: "explicit" | "user" | "service";
  /** The config file describing that daemon, when known. */
  configFile?: string;
}

/** The candidates, in order: the explicit socket alone, else the user's then the service's. */
export function daemonCandidates(options: {
  explicit: boolean;
  userSocket: string;
  userConfigFile?: string | undefined;
  serviceSocket?: string;
  serviceConfigFile?: string;
}): DaemonCandidate[] {
  const user: DaemonCandidate = {
    socket: options.userSocket,
    origin: options.explicit ? "explicit" : "user",
    ...(options.userConfigFile ? { configFile: options.userConfigFile } : {}),
  };
  if (options.explicit) return [user];
  const service: DaemonCandidate = {
    socket: options.serviceSocket ?? SERVICE_SOCKET,
    origin: "service",
    configFile: options.serviceConfigFile ?? SERVICE_CONFIG,
  };
  return service.socket === user.socket ? [user] : [user, service];
}

/** Whether flags, environment or the config file chose the daemon. */
export function socketIsExplicit(options: {
  overrides: readonly ConfigOverride[];
  configFlag: string | undefined;
  env: { get(name: string): string | undefined };
  /** The text of the config file that was read, if any. */
  fileText: string | undefined;
}): boolean {
  if (options.configFlag !== undefined) return true;
  if (options.env.get("GUIX_P2P_CONFIG") || options.env.get("GUIX_P2P_SOCKET")) return true;
  if (options.overrides.some((o) => o.key === "socket_path" || o.key === "cache_dir")) return true;
  const text = options.fileText;
  return text !== undefined &&
    (findKeyLine(text, "socket_path") !== undefined ||
      findKeyLine(text, "cache_dir") !== undefined);
}

/** How to describe a candidate to the user. */
export function describeCandidate(c: DaemonCandidate): string {
  switch (c.origin) {
    case "explicit":
      return c.socket;
    case "user":
      return `${c.socket} (your own daemon)`;
    case "service":
      return `${c.socket} (the system service${c.configFile ? `, ${c.configFile}` : ""})`;
  }
}

/** The configuration to use for the daemon found at `candidate`, and where it came from. */
export interface LocatedDaemon {
  candidate: DaemonCandidate;
  config: Config;
  /** The config file read (undefined: defaults). */
  configFile: string | undefined;
  /** The connection, when the daemon answered. */
  connection?: FrameConnection;
  /** Why each candidate tried before did not answer. */
  tried: { candidate: DaemonCandidate; error: string }[];
}

/**
 * Loads the configuration, then finds the daemon: connects to the first
 * candidate that answers and returns it with its configuration (the
 * service's file for the service). With `connect: false`, or when no
 * candidate answers, returns the first candidate without a connection
 * (`tried` says why each failed) — `doctor` checks it.
 */
export async function locateDaemon(options: {
  configFlag: string | undefined;
  overrides: readonly ConfigOverride[];
  env: { get(name: string): string | undefined };
  connect?: boolean;
}): Promise<LocatedDaemon> {
  const { env, overrides } = options;
  const { config, file } = await loadConfig({
    configPath: options.configFlag,
    overrides,
    env,
  });
  const fileText = file ? await Deno.readTextFile(file).catch(() => undefined) : undefined;
  const explicit = socketIsExplicit({
    overrides,
    configFlag: options.configFlag,
    env,
    fileText,
  });
  const serviceConfigFile = env.get("GUIX_P2P_SERVICE_CONFIG") || SERVICE_CONFIG;
  const service = explicit ? undefined : await readServiceConfig(serviceConfigFile, env, overrides);
  const candidates = daemonCandidates({
    explicit,
    userSocket: config.socket_path,
    userConfigFile: file,
    serviceSocket: service?.config.socket_path ?? SERVICE_SOCKET,
    serviceConfigFile,
  });
  const configOf = (c: DaemonCandidate) =>
    c.origin === "service" && service
      ? { config: service.config, configFile: serviceConfigFile }
      : { config, configFile: file };
  const tried: LocatedDaemon["tried"] = [];
  if (options.connect !== false) {
    for (const candidate of candidates) {
      try {
        const connection = await connectControlSocket(candidate.socket, { timeoutMs: 5000 });
        return { candidate, ...configOf(candidate), connection, tried };
      } catch (e) {
        tried.push({ candidate, error: (e as Error).message });
      }
    }
  }
  // Nothing answers: the service when only its config exists, else the first candidate.
  const fallback = candidates.find((c) => c.origin === "service" && service && !file) ??
    candidates[0]!;
  return { candidate: fallback, ...configOf(fallback), tried };
}

/** The service's configuration, if its file exists and is valid (command-line overrides apply). */
async function readServiceConfig(
  path: string,
  env: { get(name: string): string | undefined },
  overrides: readonly ConfigOverride[],
): Promise<{ config: Config } | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  try {
    return { config: resolveConfig({ env, file: { path, text }, overrides }) };
  } catch {
    return undefined; // `doctor` and `config check` report a broken service file
  }
}

/** The error when no candidate answers, naming each socket and why. */
export function noDaemonError(located: LocatedDaemon): ControlConnectionError {
  const denied = located.tried.some((t) => /permission denied|os error 13/i.test(t.error));
  const hint = denied
    ? " (the socket is for root and the daemon's group: join that group, e.g. `usermod -aG guix-p2p $USER`, and log in again)"
    : "";
  if (located.tried.length <= 1) {
    return new ControlConnectionError(
      (located.tried[0]?.error ?? `cannot connect to the daemon at ${located.candidate.socket}`) +
        hint,
    );
  }
  return new ControlConnectionError(
    `no guix-p2p daemon answers: ${
      located.tried.map((t) => `${describeCandidate(t.candidate)}: ${t.error}`).join("; ")
    }${hint}`,
  );
}
