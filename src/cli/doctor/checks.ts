/**
 * The checks of `guix-p2p doctor`: small pure functions from gathered facts
 * ({@linkcode DoctorFacts}) to one verdict each, with the fix when something
 * is wrong. A check `fail`s only when the problem stops substitution through
 * guix-p2p (the command then exits 1); other problems `warn`; what cannot be
 * known from here is `unknown`.
 *
 * @example
 * ```ts
 * import { runChecks, formatCheck } from "./checks.ts";
 * for (const c of runChecks(facts)) console.log(formatCheck(c));
 * // ✓ daemon: guix-p2p 0.1.0 (pid 812) answers at /run/guix-p2p/control.sock
 * ```
 * @module
 */
import { checkCacheSpace, checkGuixDaemon } from "./checks_host.ts";
import {
  checkBootstrap,
  checkClock,
  checkDht,
  checkListen,
  checkNat,
  checkReachable,
  checkShareable,
  checkSubstituteUrls,
} from "./checks_network.ts";
import type { CheckResult, CheckStatus, DoctorFacts } from "./facts.ts";

/** Known signing keys, by the hex Guix prints. */
export const KNOWN_KEYS: Record<string, string> = {
  "7D602902D3A2DBB83F8A0FB98602A754C5493B0B778C8D1DD4E0F41DE14DE34F": "bordeaux.guix.gnu.org",
  "8D156F295D24B0D9A86FA5741A840FF2D24F60F7B6C4134814AD55625971B394": "ci.guix.gnu.org",
};

/** The configuration loads; original guix-p2p keys are named. */
export function checkConfig(f: DoctorFacts): CheckResult {
  const where = f.config.file ?? "no config file (defaults)";
  if (f.config.error) {
    return {
      id: "config",
      status: "fail",
      summary: f.config.error,
      fix: "correct the file (`guix-p2p config check FILE` names file, line and key)",
    };
  }
  if (f.config.warnings.length > 0) {
    return {
      id: "config",
      status: "warn",
      summary: `${where}: ${f.config.warnings.length} key(s) of the original guix-p2p`,
      fix: `\`guix-p2p config migrate ${f.config.file}\` writes the file in the new keys`,
    };
  }
  return { id: "config", status: "ok", summary: where };
}

/** The daemon answers on its control socket. */
export function checkDaemon(f: DoctorFacts): CheckResult {
  const s = f.daemon?.status;
  if (s) {
    return {
      id: "daemon",
      status: "ok",
      summary:
        `guix-p2p ${s.version} (pid ${s.pid}, up ${s.uptimeSeconds} s) answers at ${f.socket.path}${
          f.config.origin === "service"
            ? " (the system service)"
            : f.config.origin === "user"
            ? " (your own daemon)"
            : ""
        }`,
    };
  }
  const why = f.socket.stat === undefined
    ? "no socket there"
    : !f.socket.stat.isSocket
    ? "the file there is not a socket"
    : f.socket.connectError ?? "it does not answer";
  const tried = f.socket.tried.filter((t) => t.socket !== f.socket.path);
  return {
    id: "daemon",
    status: "fail",
    summary: `no daemon answers at ${f.socket.path}: ${why}${
      tried.length ? ` (also tried ${tried.map((t) => t.socket).join(", ")})` : ""
    }`,
    fix: /permission denied|os error 13/i.test(why)
      ? "join the socket's group (`sudo usermod -aG guix-p2p $USER`, then log in again), or run as root"
      : "start it: `sudo herd start guix-p2p` (Guix System), `sudo systemctl start guix-p2p` (systemd), or `guix-p2p --daemon`; its log says why it stopped",
  };
}

/** The socket is usable by root (the helper) and the admin group. */
export function checkSocket(f: DoctorFacts): CheckResult {
  const st = f.socket.stat;
  if (!st) {
    return { id: "socket", status: "unknown", summary: `${f.socket.path} does not exist` };
  }
  if (!st.isSocket) {
    return {
      id: "socket",
      status: "fail",
      summary: `${f.socket.path} is not a socket`,
      fix: "remove the file; the daemon creates its socket when it starts",
    };
  }
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  const group = st.group ?? `gid ${st.gid}`;
  if ((st.mode & 0o060) !== 0o060) {
    return {
      id: "socket",
      status: "warn",
      summary: `mode ${mode}, group ${group}: the group cannot use it`,
      fix: "restart the daemon (it sets mode 0660)",
    };
  }
  if (f.socket.wantGroup && st.group !== undefined && st.group !== f.socket.wantGroup) {
    return {
      id: "socket",
      status: "warn",
      summary: `mode ${mode}, group ${group}, not socket_group "${f.socket.wantGroup}"`,
      fix: `check that the group "${f.socket.wantGroup}" exists and restart the daemon`,
    };
  }
  return {
    id: "socket",
    status: "ok",
    summary: `mode ${mode}, group ${group}${(st.mode & 0o006) ? " (other users too!)" : ""}`,
  };
}

/** The ACL exists and authorizes keys. */
export function checkAcl(f: DoctorFacts): CheckResult {
  const { path } = f.acl;
  const fix =
    "authorize your substitute servers' keys: `sudo guix archive --authorize < KEY.pub` (Guix System: `authorized-keys` of guix-configuration)";
  if (f.acl.error) return { id: "acl", status: "fail", summary: `${path}: ${f.acl.error}`, fix };
  if (f.acl.keys.length === 0) {
    return {
      id: "acl",
      status: "fail",
      summary: `${path} authorizes no Ed25519 key: no narinfo can be trusted`,
      fix,
    };
  }
  const names = f.acl.keys.map((k) => KNOWN_KEYS[k] ?? `${k.slice(0, 6)}…${k.slice(-4)}`);
  return {
    id: "acl",
    status: "ok",
    summary: `${path}: ${f.acl.keys.length} key(s): ${names.join(", ")}${
      f.acl.otherEntries ? ` (+${f.acl.otherEntries} of another type, unused)` : ""
    }`,
  };
}

/** Every check, in report order. */
export function runChecks(f: DoctorFacts): CheckResult[] {
  if (f.config.error) return [checkConfig(f)];
  return [
    checkConfig(f),
    checkDaemon(f),
    checkSocket(f),
    checkAcl(f),
    checkSubstituteUrls(f),
    checkClock(f),
    checkListen(f),
    checkReachable(f),
    checkBootstrap(f),
    checkDht(f),
    checkShareable(f),
    checkNat(f),
    checkGuixDaemon(f),
    checkCacheSpace(f),
  ];
}

const MARK: Record<CheckStatus, string> = { ok: "✓", warn: "!", fail: "✗", unknown: "?" };

/** The line `guix-p2p doctor` prints for a check: mark, name, what was found, and the fix. */
export function formatCheck(c: CheckResult): string {
  return `${MARK[c.status]} ${c.id}: ${c.summary}${
    c.fix && c.status !== "ok" ? ` — fix: ${c.fix}` : ""
  }`;
}

/** 1 when a check failed (something stops substitution through guix-p2p), else 0. */
export function exitStatus(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === "fail") ? 1 : 0;
}
