/**
 * Runs `bin/guix-p2p --daemon` as a separate process for end-to-end tests,
 * with its own config file, cache directory and socket; waits for its
 * "listening" log line (bounded), and stops it with SIGTERM.
 *
 * @module
 */
import { stringify } from "@std/toml";
import { SubstituterAgent } from "./guix_daemon.ts";

/** Repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
/** The launcher. */
export const LAUNCHER = `${ROOT}/bin/guix-p2p`;
/** The helper symlink. */
export const HELPER = `${ROOT}/bin/guix-p2p-substitute`;

/** What a CLI run printed. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bin/guix-p2p ARGS` to completion (NO_COLOR set). With `clearEnv`
 * only PATH, NO_COLOR and `env` are passed; otherwise `env` is added to ours.
 */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; clearEnv?: boolean } = {},
): Promise<CliRun> {
  const base = options.clearEnv ? { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" } : {};
  const out = await new Deno.Command(LAUNCHER, {
    args,
    clearEnv: options.clearEnv ?? false,
    env: { ...base, NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Spawns the real helper (`bin/guix-p2p-substitute --query|--substitute`)
 * the way guix-daemon does, for the daemon started with `daemon`'s config and
 * the store `storeDir`; `settings` go into `_NIX_OPTIONS`.
 */
export function helperAgent(
  mode: "query" | "substitute",
  daemon: Pick<DaemonProcess, "configPath">,
  storeDir: string,
  settings: Record<string, string> = {},
): SubstituterAgent {
  const options = {
    program: [HELPER],
    env: { GUIX_P2P_CONFIG: daemon.configPath, NIX_STORE_DIR: storeDir },
    storeDir,
    settings,
  };
  return mode === "query" ? SubstituterAgent.query(options) : SubstituterAgent.substitute(options);
}

/** A running daemon. */
export interface DaemonProcess extends AsyncDisposable {
  /** The config file it was started with (the helper reads it too, via GUIX_P2P_CONFIG). */
  configPath: string;
  socketPath: string;
  cacheDir: string;
  child: Deno.ChildProcess;
  /** Log lines so far. */
  log: string[];
  /** When each line of {@linkcode log} arrived (Date.now()). */
  logAt: number[];
  /**
   * Resolves with the first log line matching `re` from line `from` on (default
   * 0: the whole log); rejects after `timeoutMs`.
   */
  waitForLog(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** SIGTERM, then wait for exit; resolves with the exit code and the time it took. */
  stop(): Promise<{ code: number; ms: number }>;
  /** SIGKILL. */
  kill(): Promise<void>;
}

/** Starts a daemon with `settings` (TOML keys) in directory `dir`. */
export async function startDaemon(
  dir: string,
  settings: Record<string, unknown>,
  options: {
    env?: Record<string, string>;
    readyTimeoutMs?: number;
    /** Runs the daemon through this command prefix (e.g. `ip netns exec NS`, tests/support/netns.ts). */
    wrap?: (args: string[]) => string[];
  } = {},
): Promise<DaemonProcess> {
  await Deno.mkdir(dir, { recursive: true });
  const cacheDir = (settings.cache_dir as string | undefined) ?? `${dir}/cache`;
  const socketPath = (settings.socket_path as string | undefined) ?? `${dir}/control.sock`;
  const config = {
    cache_dir: cacheDir,
    socket_path: socketPath,
    gateway_listen: "",
    dashboard_listen: "",
    mdns: false,
    listen: [],
    ...settings,
  };
  const configPath = `${dir}/config.toml`;
  await Deno.writeTextFile(configPath, stringify(config));
  const argv = (options.wrap ?? ((a) => a))([LAUNCHER, "--daemon", "--config", configPath]);
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const logAt: number[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        log.push(line);
        logAt.push(Date.now());
        if (Deno.env.get("GUIX_P2P_TEST_VERBOSE")) console.error(`[daemon ${dir}] ${line}`);
        for (const w of [...waiters]) {
          if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status;
  const waitForLog = (re: RegExp, timeoutMs = 30_000, from = 0): Promise<string> => {
    const found = log.slice(from).find((l) => re.test(l));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.findIndex((w) => w.re === re), 1);
        reject(
          new Error(
            `daemon: no log line matching ${re} within ${timeoutMs} ms; log:\n${log.join("\n")}`,
          ),
        );
      }, timeoutMs);
      waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      exited.then((s) => {
        if (waiters.some((w) => w.re === re)) {
          clearTimeout(timer);
          reject(
            new Error(`daemon exited (${s.code}) before logging ${re}; log:\n${log.join("\n")}`),
          );
        }
      });
    });
  };
  // The ready line (daemon:started), after every part — P2P node, gateway — started.
  await waitForLog(/guix-p2p \S+ listening on /, options.readyTimeoutMs ?? 30_000);
  let stopped = false;
  const stop = async () => {
    const t0 = performance.now();
    if (!stopped) {
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
    }
    const status = await exited;
    await pumps;
    return { code: status.code, ms: performance.now() - t0 };
  };
  const kill = async () => {
    stopped = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await exited;
    await pumps;
  };
  return {
    configPath,
    socketPath,
    cacheDir,
    child,
    log,
    logAt,
    waitForLog,
    stop,
    kill,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}
