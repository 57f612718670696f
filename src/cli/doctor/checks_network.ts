/**
 * The network checks of `guix-p2p doctor`: substitute servers and the clock,
 * the listen port, reachability, bootstrap peers, the DHT, the shareable
 * address and NAT. Pure functions of {@linkcode DoctorFacts}.
 *
 * @example
 * ```ts
 * import { checkDht } from "./checks_network.ts";
 * checkDht(facts).status; // "ok" with peers in the routing table
 * ```
 * @module
 */
import { shareInfo } from "../../p2p/share_info.ts";
import type { CheckResult, DoctorFacts } from "./facts.ts";

type Obj = Record<string, unknown>;

function p2p(f: DoctorFacts): Obj | undefined {
  const v = f.daemon?.status.p2p;
  return v && typeof v === "object" ? v as Obj : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** The substitute servers answer (narinfos come only from them). */
export function checkSubstituteUrls(f: DoctorFacts): CheckResult {
  const up = f.http.filter((h) => h.status !== undefined && h.status < 500);
  const down = f.http.filter((h) => !(h.status !== undefined && h.status < 500));
  const describe = (h: typeof f.http[number]) => `${h.url} (${h.error ?? `HTTP ${h.status}`})`;
  if (f.http.length === 0) {
    return {
      id: "substitute-urls",
      status: "fail",
      summary: "no substitute_urls: no narinfo can be found",
      fix: 'set substitute_urls = ["https://bordeaux.guix.gnu.org", "https://ci.guix.gnu.org"]',
    };
  }
  if (up.length === 0) {
    return {
      id: "substitute-urls",
      status: "fail",
      summary: `none answers: ${down.map(describe).join(", ")}`,
      fix: "check the network (proxy, DNS, firewall) and the URLs in substitute_urls",
    };
  }
  if (down.length > 0) {
    return {
      id: "substitute-urls",
      status: "warn",
      summary: `${up.map((h) => h.url).join(", ")} answer; not: ${down.map(describe).join(", ")}`,
      fix: "remove or fix the servers that do not answer (each costs a timeout)",
    };
  }
  return {
    id: "substitute-urls",
    status: "ok",
    summary: `${up.map((h) => h.url).join(", ")} answer`,
  };
}

/** This machine's clock against the servers' Date headers. */
export function checkClock(f: DoctorFacts): CheckResult {
  const dated = f.http.filter((h) => h.date && h.at !== undefined);
  if (dated.length === 0) {
    return { id: "clock", status: "unknown", summary: "no server sent a Date header" };
  }
  const h = dated[0]!;
  const skew = (h.at! - Date.parse(h.date!)) / 1000;
  if (!Number.isFinite(skew)) {
    return { id: "clock", status: "unknown", summary: `unreadable Date header "${h.date}"` };
  }
  const text = `${Math.abs(skew) < 1 ? "<1" : Math.round(Math.abs(skew))} s ${
    skew >= 0 ? "ahead of" : "behind"
  } ${h.url}`;
  // HTTP dates have a one-second resolution and the answer takes a while.
  if (Math.abs(skew) > 60) {
    return {
      id: "clock",
      status: "warn",
      summary: text,
      fix:
        "synchronise the clock (NTP: ntp-service-type, systemd-timesyncd); TLS and cache expiry depend on it",
    };
  }
  return { id: "clock", status: "ok", summary: text };
}

/** The daemon listens for peers (and nobody else holds its port). */
export function checkListen(f: DoctorFacts): CheckResult {
  const taken = f.listen.filter((l) => l.probe !== undefined && l.probe !== "free");
  if (taken.length > 0) {
    return {
      id: "listen",
      status: "fail",
      summary: `cannot listen on ${
        taken.map((l) => `${l.address} (${l.probe})`).join(", ")
      }: another program holds the port`,
      fix: `stop that program (\`ss -ltnp 'sport = :${
        taken[0]!.port
      }'\` names it), or choose another port in listen`,
    };
  }
  if (f.listen.length === 0) {
    return {
      id: "listen",
      status: "warn",
      summary: "listen = []: peers cannot download from this machine",
      fix: 'set listen = ["/ip4/0.0.0.0/tcp/6881"]',
    };
  }
  const actual = strings(p2p(f)?.listen);
  if (!f.daemon) {
    return {
      id: "listen",
      status: "unknown",
      summary: `${f.listen.map((l) => l.address).join(" ")} (the daemon is not running)`,
    };
  }
  const ports = [...new Set(f.listen.map((l) => l.port))].join(", ");
  return {
    id: "listen",
    status: "ok",
    summary: `TCP port ${ports} open: ${actual.slice(0, 3).join(" ")}${
      actual.length > 3 ? " …" : ""
    }`,
  };
}

/** Whether peers on the network reach this node (inbound connections seen). */
export function checkReachable(f: DoctorFacts): CheckResult {
  const node = p2p(f);
  if (!node) return { id: "lan", status: "unknown", summary: "the P2P node is not running" };
  const inbound = typeof node.inbound === "number" ? node.inbound : 0;
  if (inbound > 0) {
    return {
      id: "lan",
      status: "ok",
      summary: `${inbound} peer(s) connected to this node from the network`,
    };
  }
  return {
    id: "lan",
    status: "unknown",
    summary: "no peer has connected to this node yet",
    fix:
      "if neighbours never connect, open TCP 6881 (or your listen port) and UDP 5353 (mDNS) in the firewall",
  };
}

/** Bootstrap peers are connected. */
export function checkBootstrap(f: DoctorFacts): CheckResult {
  if (f.bootstrapPeers.length === 0) {
    return {
      id: "bootstrap",
      status: "ok",
      summary: "none configured: peers on the local network are found by mDNS",
    };
  }
  if (!f.daemon) {
    return { id: "bootstrap", status: "unknown", summary: `${f.bootstrapPeers.length} configured` };
  }
  const connected = new Set(
    f.daemon.peers.filter((p) => p.connected === true).map((p) => String(p.peerId)),
  );
  const up = f.bootstrapPeers.filter((a) => connected.has(a.split("/p2p/").at(-1) ?? ""));
  if (up.length === 0) {
    return {
      id: "bootstrap",
      status: "warn",
      summary: `none of ${f.bootstrapPeers.length} connected: ${f.bootstrapPeers.join(" ")}`,
      fix: "check the addresses (`guix-p2p share-info` on that machine) and that its port is open",
    };
  }
  return {
    id: "bootstrap",
    status: "ok",
    summary: `${up.length} of ${f.bootstrapPeers.length} connected`,
  };
}

/** The DHT has peers to ask. */
export function checkDht(f: DoctorFacts): CheckResult {
  const node = p2p(f);
  if (!node) return { id: "dht", status: "unknown", summary: "the P2P node is not running" };
  const n = typeof node.dhtPeers === "number" ? node.dhtPeers : 0;
  if (n === 0) {
    return {
      id: "dht",
      status: "warn",
      summary: `${node.dhtMode} mode, no peer in the routing table: nobody to share with yet`,
      fix:
        "start guix-p2p on a neighbour (mDNS finds it), or add bootstrap_peers (`guix-p2p share-info` prints them)",
    };
  }
  return {
    id: "dht",
    status: "ok",
    summary: `${node.dhtMode} mode, ${n} peer(s) in the routing table`,
  };
}

/** The node has an address neighbours can use. */
export function checkShareable(f: DoctorFacts): CheckResult {
  const node = p2p(f);
  if (!node) return { id: "shareable", status: "unknown", summary: "the P2P node is not running" };
  const info = shareInfo({
    peerId: typeof node.peerId === "string" ? node.peerId : null,
    addresses: strings(node.listen),
  });
  if (info.state === "shareable") {
    return { id: "shareable", status: "ok", summary: info.addresses.join(" ") };
  }
  return { id: "shareable", status: "warn", summary: info.detail, fix: "see docs/sharing.md" };
}

/** NAT status (from the daemon, once it reports one). */
export function checkNat(f: DoctorFacts): CheckResult {
  const nat = p2p(f)?.nat;
  if (nat === undefined || nat === null) {
    return {
      id: "nat",
      status: "unknown",
      summary: "not measured (this version has no AutoNAT)",
    };
  }
  const text = typeof nat === "string" ? nat : JSON.stringify(nat);
  const state = typeof nat === "string" ? nat : String((nat as Obj).status ?? (nat as Obj).state);
  return {
    id: "nat",
    status: /public|reachable|open/i.test(state) && !/unreachable/i.test(state)
      ? "ok"
      : /private|unreachable|behind/i.test(state)
      ? "warn"
      : "unknown",
    summary: text,
  };
}
