/**
 * The binary-cache HTTP gateway (loopback only): Nix clients use it as a
 * substituter, Guix clients as a substitute URL (`…/guix`, or the root with
 * Guix's `GNU Guile` user agent). Narinfos come from the upstream caches and
 * are served only when signed by a trusted key (Nix: `nix_trusted_public_keys`;
 * Guix: the ACL); their download fields are rewritten to the gateway's own
 * uncompressed NAR, which comes from the swarm when peers have it, else from
 * upstream, and is never completed unless it matched the signed NarHash.
 *
 * Routes: `GET /nix-cache-info`; `GET|HEAD /<hash>.narinfo`;
 * `GET|HEAD /nar/<hash>/<narhash>.nar` (with `Range: bytes=N-` → 206);
 * the same under `/guix/`; other `/guix/…` paths are proxied to upstream as
 * named by the narinfo (old-layout Guix narinfos whose URLs are signed).
 *
 * @example
 * ```ts
 * const gateway = new Gateway(options);
 * await gateway.start(); // listening on config.gateway_listen
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";
import { isNix32 } from "../encoding/nix32.ts";
import { nix32Encode } from "../encoding/nix32.ts";
import { formatNarHash } from "../hash/nar_hash.ts";
import type { Flavour } from "../fetch/flavour.ts";
import { httpGet } from "../http/client.ts";
import { type Narinfo, resolveNarUrl } from "../narinfo/mod.ts";
import type { LocalNars } from "../fetch/local.ts";
import type { PeerIndex } from "../fetch/peers.ts";
import { cachedNarBody, parseRange, plannedNarBody } from "./nar_body.ts";
import { rewriteGuixNarinfo, rewriteNixNarinfo } from "./rewrite.ts";

/** A request the gateway answered (for logs). */
export interface GatewayEvents {
  "gateway:request": {
    method: string;
    path: string;
    status: number;
    flavour: string;
    detail?: string;
  };
  "gateway:started": { url: string };
}

/** Dependencies of {@linkcode Gateway}. */
export interface GatewayOptions {
  config: Config;
  /** Nix items: `nix_upstream_urls`, `/nix/store`, `nix_trusted_public_keys`. */
  nix: Flavour;
  /** Guix items: `substitute_urls`, the store, the ACL. */
  guix: Flavour;
  /** Verified NARs held locally (the P2P block cache), served first whatever the policy. */
  local?: LocalNars;
  /** The P2P layer's batch index: narinfo requests (which precede a client's NAR requests) prefetch. */
  peers?: PeerIndex;
  emit: <K extends keyof GatewayEvents>(type: K, payload: GatewayEvents[K]) => void;
}

type FlavourName = "nix" | "guix";

const NARINFO = /^\/([0-9a-df-np-sv-z]{32})\.narinfo$/;
const NAR = /^\/nar\/([0-9a-df-np-sv-z]{32})\/([0-9a-df-np-sv-z]{52})\.nar$/;

class Reply {
  constructor(
    readonly status: number,
    readonly body: BodyInit | null,
    readonly headers: Record<string, string> = {},
    readonly detail?: string,
  ) {}
}

/** The gateway. */
export class Gateway {
  #o: GatewayOptions;
  #server: Deno.HttpServer | undefined;
  #abort = new AbortController();

  /** Creates the gateway (call {@linkcode start}). */
  constructor(options: GatewayOptions) {
    this.#o = options;
  }

  /** The base URL once started. */
  url = "";

  /** Listens on `gateway_listen` (must be loopback; enforced by the configuration). */
  start(): Promise<void> {
    const listen = this.#o.config.gateway_listen;
    if (listen === "") return Promise.resolve();
    const colon = listen.lastIndexOf(":");
    const hostname = listen.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(listen.slice(colon + 1));
    const ready = Promise.withResolvers<void>();
    this.#server = Deno.serve({
      hostname,
      port,
      signal: this.#abort.signal,
      onListen: (addr) => {
        this.url = `http://${
          addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname
        }:${addr.port}`;
        this.#o.emit("gateway:started", { url: this.url });
        ready.resolve();
      },
      onError: () => new Response("internal error\n", { status: 500 }),
    }, (req) => this.handle(req));
    return ready.promise;
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#server?.finished.catch(() => {});
  }

  /** Answers one request. */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const method = req.method;
    let path = url.pathname;
    let flavour: FlavourName = (req.headers.get("user-agent") ?? "").includes("Guile")
      ? "guix"
      : "nix";
    if (path.startsWith("/guix/")) {
      flavour = "guix";
      path = path.slice(5);
    }
    let reply: Reply;
    try {
      if (method !== "GET" && method !== "HEAD") {
        reply = new Reply(405, "method not allowed\n", { allow: "GET, HEAD" });
      } else reply = await this.#route(path, flavour, req);
    } catch (e) {
      reply = new Reply(503, `${(e as Error).message}\n`, {}, (e as Error).message);
    }
    this.#o.emit("gateway:request", {
      method,
      path: url.pathname,
      status: reply.status,
      flavour,
      ...(reply.detail ? { detail: reply.detail } : {}),
    });
    return new Response(method === "HEAD" ? null : reply.body, {
      status: reply.status,
      headers: reply.headers,
    });
  }

  async #route(path: string, flavour: FlavourName, req: Request): Promise<Reply> {
    const c = this.#o.config;
    if (path === "/nix-cache-info") {
      const storeDir = flavour === "guix" ? c.store_dir : c.nix_store_dir;
      return new Reply(
        200,
        `StoreDir: ${storeDir}\nWantMassQuery: 1\nPriority: ${c.gateway_priority}\n`,
        {
          "content-type": "text/x-nix-cache-info",
        },
      );
    }
    if (path === "/" || path === "") {
      return new Reply(
        200,
        `guix-p2p binary-cache gateway\nNix: ${c.nix_store_dir}; Guix: use …/guix (${c.store_dir})\n`,
        {
          "content-type": "text/plain",
        },
      );
    }
    let m = NARINFO.exec(path);
    if (m) return await this.#narinfo(m[1]!, flavour, req.signal);
    m = NAR.exec(path);
    if (m) return await this.#nar(m[1]!, m[2]!, flavour, req);
    if (flavour === "guix" && path.startsWith("/nar/")) {
      return await this.#proxy(path.slice(1), req);
    }
    return new Reply(404, "not found\n");
  }

  async #lookup(
    hashPart: string,
    flavour: FlavourName,
    signal: AbortSignal,
  ): Promise<{ narinfo: Narinfo; text: string; cacheUrl: string } | Reply> {
    const c = this.#o.config;
    const side = this.#o[flavour];
    // The trust of the moment (the Guix ACL may have changed): the resolver checks with it too.
    const authorizer = await side.authorizer();
    const urls = flavour === "nix" ? c.nix_upstream_urls : c.substitute_urls;
    const r = await side.resolver.resolveHashPart(hashPart, urls, {
      signal,
      peers: c.policy !== "http-only",
    });
    if (r.kind === "missing") {
      return new Reply(r.transient ? 503 : 404, "not found\n", {}, r.reason);
    }
    const v = authorizer.check(r.text, hashPart);
    if (v.kind !== "authorized") return new Reply(404, "not found\n", {}, v.reason);
    return { narinfo: v.narinfo, text: r.text, cacheUrl: r.cacheUrl };
  }

  async #narinfo(hashPart: string, flavour: FlavourName, signal: AbortSignal): Promise<Reply> {
    const found = await this.#lookup(hashPart, flavour, signal);
    if (!(found instanceof Reply) && this.#o.config.policy !== "http-only") {
      // A client asks for a closure's narinfos before its NARs: fetch ahead what peers have.
      this.#o.peers?.prefetch([{
        storePath: found.narinfo.storePath,
        narHash: found.narinfo.narHashDigest,
        narSize: found.narinfo.narSize,
        // Nix, too, fetches dependencies first: the batch is fetched in that order.
        references: found.narinfo.references,
      }]);
    }
    if (found instanceof Reply) return found;
    const body = flavour === "nix"
      ? rewriteNixNarinfo(found.narinfo)
      : (rewriteGuixNarinfo(found.narinfo) ?? found.text);
    return new Reply(200, body, {
      "content-type": flavour === "nix" ? "text/x-nix-narinfo" : "application/x-nix-narinfo",
    });
  }

  async #nar(
    hashPart: string,
    narHashText: string,
    flavour: FlavourName,
    req: Request,
  ): Promise<Reply> {
    const c = this.#o.config;
    const found = await this.#lookup(hashPart, flavour, req.signal);
    if (found instanceof Reply) return found;
    const { narinfo } = found;
    if (nix32Encode(narinfo.narHashDigest) !== narHashText) {
      return new Reply(404, "not found (stale NAR URL)\n");
    }
    const size = narinfo.narSize;
    const range = parseRange(req.headers.get("range"), size);
    if (range === "invalid") {
      return new Reply(416, null, { "content-range": `bytes */${size}`, "content-length": "0" });
    }
    const offset = range ?? 0;
    const headers: Record<string, string> = {
      "content-type": "application/x-nix-nar",
      "accept-ranges": "bytes",
      "content-length": String(size - offset),
    };
    if (range !== undefined) headers["content-range"] = `bytes ${offset}-${size - 1}/${size}`;
    const status = range !== undefined ? 206 : 200;
    if (req.method === "HEAD") return new Reply(status, null, headers);
    const entry = this.#o.local?.verified(narinfo.narHashDigest);
    if (entry) {
      return new Reply(status, cachedNarBody(entry, offset), headers, "from cache");
    }
    const side = this.#o[flavour];
    const target = {
      storePath: narinfo.storePath,
      narHash: formatNarHash(narinfo.narHashDigest),
      narHashDigest: narinfo.narHashDigest,
      narSize: size,
      urls: flavour === "nix" ? c.nix_upstream_urls : c.substitute_urls,
    };
    const body = plannedNarBody(
      (sink, signal) =>
        side.planner.fetch(target, sink, {
          signal,
          policy: c.policy,
          rewind: false,
          verifyFirst: c.gateway_verify_first !== "never",
        }),
      offset,
    );
    return new Reply(status, body, headers);
  }

  /** Old-layout Guix narinfos sign their URLs: proxy the upstream NAR as named (the client verifies it). */
  async #proxy(rel: string, req: Request): Promise<Reply> {
    const base = rel.slice(rel.lastIndexOf("/") + 1);
    const hashPart = base.slice(0, 32);
    if (base[32] !== "-" || !isNix32(hashPart)) return new Reply(404, "not found\n");
    const found = await this.#lookup(hashPart, "guix", req.signal);
    if (found instanceof Reply) return found;
    const entry = found.narinfo.entries.find((e) =>
      e.url === rel || decodeURIComponent(e.url) === rel
    );
    if (!entry) return new Reply(404, "not found\n");
    const upstream = resolveNarUrl(found.cacheUrl, entry.url);
    const res = await httpGet(upstream, {
      headerTimeoutMs: this.#o.config.http_connect_timeout * 1000,
      stallTimeoutMs: this.#o.config.http_stall_timeout * 1000,
      signal: req.signal,
    });
    if (res.status !== 200) {
      await res.body.cancel().catch(() => {});
      return new Reply(
        res.status === 404 ? 404 : 502,
        "upstream error\n",
        {},
        `${upstream}: HTTP ${res.status}`,
      );
    }
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    const length = res.headers.get("content-length");
    if (length) headers["content-length"] = length;
    return new Reply(200, res.body, headers, `proxied ${upstream}`);
  }
}
