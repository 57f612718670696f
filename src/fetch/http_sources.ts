/**
 * HTTP sources of a NAR: every URL of every server's authorized narinfo with
 * the same NarHash, servers in order, each narinfo's entries in the order of
 * `compression_preference`. Opening a source at an offset uses a Range
 * request for uncompressed NARs and otherwise decompresses from the start and
 * skips (compressed streams cannot be entered midway).
 *
 * @example
 * ```ts
 * const http = new HttpSources({ resolver, storeDir: "/gnu/store", preference: "auto", engine: "auto", timeouts });
 * for await (const source of http.sources(target, { signal })) console.log(source.url);
 * ```
 * @module
 */
import {
  type Compression,
  decompressor,
  limitOutput,
  parseCompression,
  supportedCompressions,
} from "../compress/mod.ts";
import { httpGet } from "../http/client.ts";
import { HttpStatusError } from "../http/errors.ts";
import type { NarinfoResolver } from "../http/resolver.ts";
import { parseNarinfo, resolveNarUrl } from "../narinfo/mod.ts";
import { orderEntries } from "./order.ts";
import { byteCounter, skipBytes } from "./_streams.ts";
import type { FetchTarget, NarSource, OpenedSource, SourceFactory } from "./source.ts";

/** Options of {@linkcode HttpSources}. */
export interface HttpSourcesOptions {
  resolver: NarinfoResolver;
  storeDir: string;
  /** `compression_preference`. */
  preference: "auto" | "smallest" | "fastest";
  /** `decompressor`. */
  engine: "auto" | "builtin" | "external";
  /** Seconds to connect and get headers. */
  connectTimeout: number;
  /** Seconds without body bytes before giving up on a URL. */
  stallTimeout: number;
  /** Narinfo dialect (default "guix"); Nix narinfos without `Compression` mean bzip2. */
  flavour?: "guix" | "nix";
  /** Authorization of narinfos (default: the resolver's). */
  check?: import("../http/resolver.ts").NarinfoCheck;
}

/** Produces HTTP sources for a target. */
export class HttpSources implements SourceFactory {
  #o: HttpSourcesOptions;
  #supported: Compression[];

  /** Creates the factory. */
  constructor(options: HttpSourcesOptions) {
    this.#o = options;
    this.#supported = supportedCompressions({ engine: options.engine });
  }

  /** Candidate sources, best first; servers after the first are asked only when needed. */
  async *sources(target: FetchTarget, options: { signal: AbortSignal }): AsyncGenerator<NarSource> {
    const seen = new Set<string>();
    for (const cacheUrl of target.urls) {
      const found = await this.#o.resolver.alternatives(target.storePath, target.narHash, [
        cacheUrl,
      ], {
        signal: options.signal,
        storeDir: this.#o.storeDir,
        ...(this.#o.check ? { check: this.#o.check } : {}),
      });
      for (const answer of found) {
        if (answer.kind !== "found") continue;
        const nix = this.#o.flavour === "nix";
        const narinfo = parseNarinfo(answer.text, {
          storeDir: this.#o.storeDir,
          flavour: nix ? "nix" : "guix",
        });
        const entries = nix
          ? narinfo.entries.map((e) => ({ ...e, compression: e.compression ?? "bzip2" }))
          : narinfo.entries;
        for (const entry of orderEntries(entries, this.#supported, this.#o.preference)) {
          const url = resolveNarUrl(answer.cacheUrl, entry.url);
          if (seen.has(url) || !allowedUrl(url, answer.cacheUrl)) continue;
          seen.add(url);
          yield this.#source(
            url,
            parseCompression(entry.compression!),
            entry.fileSize,
            target.narSize,
          );
        }
      }
    }
  }

  #source(
    url: string,
    compression: Compression,
    fileSize: number | undefined,
    narSize: number,
  ): NarSource {
    const o = this.#o;
    return {
      kind: "http",
      url,
      size: fileSize ?? (compression === "none" ? narSize : null),
      async open(offset, { signal }): Promise<OpenedSource> {
        const ranged = compression === "none" && offset > 0;
        const res = await httpGet(url, {
          headerTimeoutMs: o.connectTimeout * 1000,
          stallTimeoutMs: o.stallTimeout * 1000,
          signal,
          ...(ranged ? { headers: { range: `bytes=${offset}-` } } : {}),
        });
        let bodyOffset = 0;
        if (res.status === 206 && ranged) bodyOffset = offset;
        else if (res.status !== 200) {
          await res.body.cancel().catch(() => {});
          throw new HttpStatusError(url, res.status);
        }
        const counter = byteCounter();
        let stream = res.body.pipeThrough(counter.stream);
        stream = compression === "none"
          ? stream.pipeThrough(limitOutput(narSize - bodyOffset))
          : stream.pipeThrough(
            decompressor(compression, { maxOutput: narSize, signal, engine: o.engine }),
          );
        if (offset > bodyOffset) stream = stream.pipeThrough(skipBytes(offset - bodyOffset));
        return { stream, transferred: counter.count };
      },
    };
  }
}

/**
 * A NAR URL from a narinfo (the URL lines are not signed): http(s), or a
 * `file://` URL inside the `file://` cache that served the narinfo — never a
 * file elsewhere (`../`, an absolute path) the daemon user could read.
 */
function allowedUrl(url: string, cacheUrl: string): boolean {
  if (url.startsWith("http://") || url.startsWith("https://")) return true;
  if (!url.startsWith("file://") || !cacheUrl.startsWith("file://")) return false;
  try {
    const dir = new URL(cacheUrl).pathname.replace(/\/+$/, "");
    const path = new URL(url).pathname;
    return path.startsWith(dir + "/") && !decodeURIComponent(path).split("/").includes("..");
  } catch {
    return false;
  }
}
