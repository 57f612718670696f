/**
 * The host checks of `guix-p2p doctor`: guix-daemon's environment (the
 * extension, the routing variables, the socket its helper uses) and the
 * cache directory's free space. Pure functions of {@linkcode DoctorFacts}.
 *
 * @example
 * ```ts
 * import { checkCacheSpace } from "./checks_host.ts";
 * checkCacheSpace(facts).summary; // "48.2 GiB free in /var/cache/guix-p2p"
 * ```
 * @module
 */
import type { CheckResult, DoctorFacts } from "./facts.ts";

const MiB = 1024 * 1024;

/** guix-daemon runs `guix substitute` through guix-p2p's extension, with the right socket. */
export function checkGuixDaemon(f: DoctorFacts): CheckResult {
  const procs = f.guixDaemons;
  if (procs === undefined) {
    return { id: "guix-daemon", status: "unknown", summary: "cannot list processes (/proc)" };
  }
  if (procs.length === 0) {
    return {
      id: "guix-daemon",
      status: "warn",
      summary: "no guix-daemon process: Guix does not use guix-p2p on this machine",
      fix: "start guix-daemon with guix-p2p's environment (docs/guix.md)",
    };
  }
  const readable = procs.filter((p) => p.env);
  if (readable.length === 0) {
    return {
      id: "guix-daemon",
      status: "unknown",
      summary: `guix-daemon (pid ${procs.map((p) => p.pid).join(", ")}): environment not readable`,
      fix: "run `sudo guix-p2p doctor` to check guix-daemon's environment",
    };
  }
  const p = readable[0]!;
  const env = p.env!;
  const ours = (p.extensionDirs ?? []).filter((d) => d.ours);
  if (!env.GUIX_EXTENSIONS_PATH || ours.length === 0) {
    return {
      id: "guix-daemon",
      status: "fail",
      summary:
        `guix-daemon (pid ${p.pid}) runs without guix-p2p's extension (GUIX_EXTENSIONS_PATH=${
          env.GUIX_EXTENSIONS_PATH ?? "unset"
        }): substitutes never go through guix-p2p`,
      fix:
        "Guix System: guix-p2p-guix-configuration in modify-services, reconfigure, `sudo herd restart guix-daemon`; systemd: the guix-daemon.service.d drop-in, `sudo systemctl restart guix-daemon` (docs/guix.md)",
    };
  }
  const routing = env.GUIX_P2P_SUBSTITUTE_ROUTING || "p2p-first";
  const helperSocket = env.GUIX_P2P_SOCKET || "/run/guix-p2p/control.sock";
  if (helperSocket !== f.socket.path) {
    return {
      id: "guix-daemon",
      status: f.config.origin === "user" ? "warn" : "fail",
      summary: `guix-daemon's helper uses the socket ${helperSocket}, not ${f.socket.path}`,
      fix:
        `set GUIX_P2P_SOCKET=${f.socket.path} in guix-daemon's environment, or socket_path = "${helperSocket}"`,
    };
  }
  return {
    id: "guix-daemon",
    status: "ok",
    summary: `pid ${p.pid}: extension ${ours[0]!.dir}, routing ${routing}, socket ${helperSocket}`,
  };
}

/** Room in the cache directory. */
export function checkCacheSpace(f: DoctorFacts): CheckResult {
  const c = f.cache;
  if (c.availableBytes === undefined) {
    return { id: "cache", status: "unknown", summary: `${c.path}: ${c.error ?? "unknown"}` };
  }
  const free = `${(c.availableBytes / 1024 ** 3).toFixed(1)} GiB free in ${c.path}`;
  if (c.availableBytes < 64 * MiB) {
    return {
      id: "cache",
      status: "fail",
      summary: `${free}: downloads cannot be kept`,
      fix: "free some space, or move cache_dir",
    };
  }
  if (c.availableBytes < Math.min(c.cacheSize, 1024 * MiB)) {
    return {
      id: "cache",
      status: "warn",
      summary: `${free}, less than cache_size`,
      fix: "free some space, lower cache_size or move cache_dir",
    };
  }
  return { id: "cache", status: "ok", summary: free };
}
