/**
 * What a helper process knows for its whole life: configuration, guix-daemon
 * options, the ACL-bound narinfo authorizer, the routing policy, and a
 * connection to the guix-p2p daemon that is re-opened after failures.
 *
 * @example
 * ```ts
 * const session = await openSession(Deno.env, (t) => Deno.stderr.writeSync(new TextEncoder().encode(t)));
 * const client = await session.daemon.client();
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { Policy } from "../fetch/types.ts";
import { loadConfig } from "../config/deno_config.ts";
import { ControlClient } from "../control/client.ts";
import { connectControlSocket } from "../control/deno_socket.ts";
import type { NarinfoAuthorizer } from "../trust/authorize.ts";
import { type DaemonOptions, daemonOptions } from "./options.ts";

/** Routing chosen by the extension (GUIX_P2P_SUBSTITUTE_ROUTING). */
export type Routing = "p2p-first" | "p2p-only" | "builtin-first";

/** The helper's long-lived state. */
export interface Session {
  config: Config;
  storeDir: string;
  options: DaemonOptions;
  /**
   * The ACL-bound authorizer. Loading the signature code and the ACL takes
   * tens of milliseconds, so it starts when the session opens and runs while
   * the first request goes to the daemon.
   */
  authorizer(): Promise<NarinfoAuthorizer>;
  routing: Routing;
  /** Policy sent to the daemon (undefined: the daemon's configured policy). */
  policy: Policy | undefined;
  /** Substitute URLs sent to the daemon (undefined: the daemon's configured URLs). */
  urls: string[] | undefined;
  daemon: DaemonLink;
  /** Writes text to stderr (the log pipe). */
  log: (text: string) => void;
}

/** A lazily (re)connected control client. */
export class DaemonLink {
  #path: string;
  #client: ControlClient | undefined;

  /** Links to the daemon socket at `path`. */
  constructor(path: string) {
    this.#path = path;
  }

  /** The socket path. */
  get path(): string {
    return this.#path;
  }

  /** A connected client (connecting again if the last one failed). */
  async client(): Promise<ControlClient> {
    if (!this.#client || this.#client.closed) {
      this.#client = new ControlClient(
        await connectControlSocket(this.#path, { timeoutMs: 5000 }),
        {
          stallTimeoutMs: 60_000,
        },
      );
    }
    return this.#client;
  }

  /** Drops the connection (the next call reconnects). */
  reset(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}

/** Reads configuration, options and the ACL. */
export async function openSession(
  env: { get(name: string): string | undefined },
  log: (text: string) => void,
): Promise<Session> {
  const { config } = await loadConfig({ env });
  const options = daemonOptions(env.get("_NIX_OPTIONS"));
  const allowUnauthenticated =
    (env.get("GUIX_ALLOW_UNAUTHENTICATED_SUBSTITUTES") ?? "").toLowerCase() === "yes";
  if (allowUnauthenticated) {
    log(
      "guix-p2p-substitute: warning: authentication and authorization of substitutes disabled!\n",
    );
  }
  const authorizer = loadAuthorizer(config.acl_path, config.store_dir, allowUnauthenticated, log);
  authorizer.catch(() => {});
  const routingText = env.get("GUIX_P2P_SUBSTITUTE_ROUTING");
  const routing: Routing = routingText === "p2p-only" || routingText === "builtin-first"
    ? routingText
    : "p2p-first";
  let urls = options.substituteUrls;
  if (options.urlsFromClient && !config.honour_client_substitute_urls) {
    const trusted = options.raw.get("substitute-urls");
    urls = trusted === undefined ? undefined : trusted.split(/\s+/).filter((u) => u !== "");
  }
  return {
    config,
    storeDir: config.store_dir,
    options,
    authorizer: () => authorizer,
    routing,
    policy: routing === "p2p-only" ? "p2p-only" : undefined,
    urls,
    daemon: new DaemonLink(config.socket_path),
    log,
  };
}

async function loadAuthorizer(
  aclPath: string,
  storeDir: string,
  allowUnauthenticated: boolean,
  log: (text: string) => void,
): Promise<NarinfoAuthorizer> {
  const [{ NarinfoAuthorizer }, { Acl }, { loadAcl }, { denoTrustFiles }] = await Promise.all([
    import("../trust/authorize.ts"),
    import("../trust/acl.ts"),
    import("../trust/files.ts"),
    import("../fs/deno_trust_files.ts"),
  ]);
  let acl;
  try {
    // No window-table precomputation: a helper often checks a handful of
    // narinfos; query.ts builds a key's table once it is used repeatedly
    // (_key_tables.ts).
    acl = await loadAcl(aclPath, denoTrustFiles, { precompute: false });
  } catch (e) {
    log(`guix-p2p-substitute: warning: ${(e as Error).message}; substitutes may be unavailable\n`);
    acl = new Acl([]);
  }
  if (acl.entries.length === 0) {
    log(
      "guix-p2p-substitute: warning: ACL for archive imports seems to be uninitialized, substitutes may be unavailable\n",
    );
  }
  return new NarinfoAuthorizer({ flavour: "guix", storeDir, acl, allowUnauthenticated });
}
