/**
 * Gathers the facts `guix-p2p doctor` checks: the configuration and the
 * daemon the CLI finds, the socket's mode and group, the ACL, each substitute
 * server's `/nix-cache-info` (and its Date header), whether the listen ports
 * are free when the daemon is not on them, guix-daemon's environment from
 * `/proc/<pid>/environ`, and the free space of the cache directory (`df`).
 * Every network and process operation is bounded.
 *
 * @example
 * ```ts
 * import { gatherFacts } from "./deno_gather.ts";
 * const facts = await gatherFacts({ configFlag: undefined, overrides: [], env: Deno.env });
 * ```
 * @module
 */
import { describeCandidate, locateDaemon } from "../_locate.ts";
import { type ConfigOverride, loadConfig } from "../../config/mod.ts";
import { ControlClient } from "../../control/client.ts";
import { parseAcl } from "../../trust/acl.ts";
import type { DoctorFacts, GuixDaemonFact, HttpFact, ListenFact } from "./facts.ts";

/** Where to find things (replaceable for tests of the gathering itself). */
export interface GatherOptions {
  configFlag: string | undefined;
  overrides: readonly ConfigOverride[];
  env: { get(name: string): string | undefined };
  /** Bound on each network probe. Default 5000 ms. */
  timeoutMs?: number;
}

/** Gathers everything; never throws for what it finds wrong (that is what it reports). */
export async function gatherFacts(options: GatherOptions): Promise<DoctorFacts> {
  const now = Date.now();
  const timeoutMs = options.timeoutMs ?? 5000;
  let located;
  try {
    located = await locateDaemon({
      configFlag: options.configFlag,
      overrides: options.overrides,
      env: options.env,
    });
  } catch (e) {
    return failedConfig(now, (e as Error).message);
  }
  const { config } = located;
  const warnings = located.configFile
    ? (await loadConfig({
      configPath: located.configFile,
      overrides: options.overrides,
      env: options.env,
    }).catch(() => ({ warnings: [] as string[] }))).warnings
    : [];
  let daemon: DoctorFacts["daemon"];
  let connectError: string | undefined;
  if (located.connection) {
    using client = new ControlClient(located.connection, { stallTimeoutMs: timeoutMs * 2 });
    try {
      const status = await client.admin("status", []) as Record<string, unknown>;
      const peers = status.p2p ? await client.admin("peers", []) as Record<string, unknown>[] : [];
      daemon = { status, peers };
    } catch (e) {
      connectError = (e as Error).message;
    }
  } else {
    connectError = located.tried.find((t) => t.candidate.socket === located.candidate.socket)
      ?.error.replace(/^cannot connect to the daemon at \S+: /, "");
  }
  const [socketStat, acl, http, listen, guixDaemons, cache] = await Promise.all([
    statSocket(located.candidate.socket),
    readAcl(config.acl_path),
    Promise.all(config.substitute_urls.map((u) => probeHttp(u, timeoutMs))),
    probeListen(config.listen, daemon),
    listGuixDaemons(),
    diskSpace(config.cache_dir),
  ]);
  return {
    now,
    config: {
      ...(located.configFile ? { file: located.configFile } : {}),
      warnings,
      origin: located.candidate.origin,
    },
    socket: {
      path: located.candidate.socket,
      ...(socketStat ? { stat: socketStat } : {}),
      wantGroup: config.socket_group,
      ...(connectError ? { connectError } : {}),
      tried: located.tried.map((t) => ({
        socket: t.candidate.socket,
        error: `${describeCandidate(t.candidate)}: ${t.error}`,
      })),
    },
    ...(daemon ? { daemon } : {}),
    acl: { path: config.acl_path, ...acl },
    http,
    listen,
    bootstrapPeers: config.bootstrap_peers,
    ...(guixDaemons ? { guixDaemons } : {}),
    cache: { path: config.cache_dir, cacheSize: config.cache_size, ...cache },
  };
}

function failedConfig(now: number, error: string): DoctorFacts {
  return {
    now,
    config: { error, warnings: [] },
    socket: { path: "", wantGroup: "", tried: [] },
    acl: { path: "", keys: [], otherEntries: 0 },
    http: [],
    listen: [],
    bootstrapPeers: [],
    cache: { path: "", cacheSize: 0 },
  };
}

async function groupName(gid: number): Promise<string | undefined> {
  try {
    for (const line of (await Deno.readTextFile("/etc/group")).split("\n")) {
      const [name, , id] = line.split(":");
      if (id !== undefined && Number(id) === gid) return name;
    }
  } catch {
    // no /etc/group: the gid is shown
  }
  return undefined;
}

async function statSocket(path: string): Promise<DoctorFacts["socket"]["stat"]> {
  try {
    const st = await Deno.lstat(path);
    const gid = st.gid ?? -1;
    const group = await groupName(gid);
    return {
      isSocket: st.isSocket === true,
      mode: st.mode ?? 0,
      gid,
      ...(group ? { group } : {}),
    };
  } catch {
    return undefined;
  }
}

async function readAcl(path: string): Promise<Omit<DoctorFacts["acl"], "path">> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const missing = e instanceof Deno.errors.NotFound;
    return {
      keys: [],
      otherEntries: 0,
      error: missing ? "does not exist: no narinfo can be trusted" : (e as Error).message,
    };
  }
  try {
    const acl = parseAcl(text, { precompute: false });
    const keys = acl.entries.flatMap((e) => e.key ? [e.key.hex] : []);
    return { keys, otherEntries: acl.entries.length - keys.length };
  } catch (e) {
    return { keys: [], otherEntries: 0, error: `not a valid ACL: ${(e as Error).message}` };
  }
}

/** `GET <url>/nix-cache-info`, bounded; file:// URLs are checked on disk. */
async function probeHttp(url: string, timeoutMs: number): Promise<HttpFact> {
  if (url.startsWith("file://")) {
    const dir = decodeURIComponent(new URL(url).pathname);
    return await Deno.stat(dir).then(
      (st) => (st.isDirectory ? { url, status: 200 } : { url, error: "not a directory" }),
      (e) => ({ url, error: (e as Error).message }),
    );
  }
  try {
    const res = await fetch(`${url}/nix-cache-info`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    const date = res.headers.get("date");
    return { url, status: res.status, at: Date.now(), ...(date ? { date } : {}) };
  } catch (e) {
    const err = e as Error;
    return {
      url,
      error: err.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : err.message,
    };
  }
}

/** The TCP listen addresses; their ports are test-bound when the daemon does not hold them. */
function probeListen(
  listen: readonly string[],
  daemon: DoctorFacts["daemon"],
): ListenFact[] {
  const p2p = daemon?.status.p2p as { listen?: unknown } | null | undefined;
  const actual = Array.isArray(p2p?.listen) ? p2p.listen.map(String) : [];
  const out: ListenFact[] = [];
  for (const address of listen) {
    const m = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d+)/.exec(address);
    if (!m) continue;
    const fact: ListenFact = { address, host: m[2]!, port: Number(m[3]) };
    const held = actual.some((a) => a.includes(`/tcp/${fact.port}`));
    if (fact.port !== 0 && !held) {
      try {
        Deno.listen({ hostname: fact.host, port: fact.port, transport: "tcp" }).close();
        fact.probe = "free";
      } catch (e) {
        fact.probe = e instanceof Deno.errors.AddrInUse ? "address in use" : (e as Error).message;
      }
    }
    out.push(fact);
  }
  return out;
}

/** guix-daemon processes and their environments (`/proc/<pid>/environ`, root only in general). */
async function listGuixDaemons(): Promise<GuixDaemonFact[] | undefined> {
  const out: GuixDaemonFact[] = [];
  try {
    for await (const e of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const comm = await Deno.readTextFile(`/proc/${e.name}/comm`).catch(() => "");
      if (comm.trim() !== "guix-daemon") continue;
      const pid = Number(e.name);
      try {
        const raw = await Deno.readTextFile(`/proc/${pid}/environ`);
        const env: Record<string, string> = {};
        for (const kv of raw.split("\0")) {
          const eq = kv.indexOf("=");
          if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
        const dirs = (env.GUIX_EXTENSIONS_PATH ?? "").split(":").filter((d) => d !== "");
        const extensionDirs = await Promise.all(
          dirs.map(async (dir) => ({ dir, ours: await isOurExtension(`${dir}/substitute.scm`) })),
        );
        out.push({ pid, env, extensionDirs });
      } catch (e) {
        out.push({ pid, error: (e as Error).message });
      }
    }
  } catch {
    return undefined;
  }
  return out;
}

async function isOurExtension(file: string): Promise<boolean> {
  try {
    const text = await Deno.readTextFile(file);
    return text.includes("(guix extensions substitute)") && text.includes("guix-p2p");
  } catch {
    return false;
  }
}

/** Free bytes where `path` (or its nearest existing parent) lives, from `df`. */
async function diskSpace(path: string): Promise<{ availableBytes?: number; error?: string }> {
  let dir = path;
  while (dir !== "/" && !(await Deno.stat(dir).then(() => true, () => false))) {
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
  }
  try {
    const out = await new Deno.Command("df", {
      args: ["-Pk", dir],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(5000),
    }).output();
    const line = new TextDecoder().decode(out.stdout).trim().split("\n")[1] ?? "";
    const available = Number(line.split(/\s+/)[3]);
    if (!out.success || !Number.isFinite(available)) return { error: "df gave no answer" };
    return { availableBytes: available * 1024 };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
