/**
 * Headless Chromium (Debian's `chromium`, /usr/bin/chromium) driven over the
 * DevTools protocol from a plain WebSocket: launch with a fresh profile,
 * open pages, evaluate JavaScript, poll the DOM with bounded timeouts, press
 * keys, grant permissions, take screenshots. Never downloads a browser.
 *
 * @example
 * ```ts
 * import { launchChromium } from "./chromium.ts";
 * await using browser = await launchChromium();
 * const page = await browser.newPage();
 * await page.goto("http://127.0.0.1:6880/");
 * await page.waitFor("document.title", { what: "a title" });
 * ```
 * @module
 */

/** The browser binary. */
export const CHROMIUM = Deno.env.get("GUIX_P2P_CHROMIUM") ?? "/usr/bin/chromium";

/** Flags that work as root in a container: no sandbox, no GPU, nothing phoning home. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--disable-dev-shm-usage",
  "--hide-scrollbars",
  "--mute-audio",
];

type Json = Record<string, unknown>;
type Listener = (params: Json, sessionId: string | undefined) => void;

/** A DevTools protocol connection (browser-level, with flattened page sessions). */
class Cdp {
  #ws: WebSocket;
  #nextId = 1;
  #pending = new Map<
    number,
    { resolve: (v: Json) => void; reject: (e: Error) => void; method: string }
  >();
  #listeners = new Map<string, Set<Listener>>();
  #closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (m) => this.#receive(JSON.parse(m.data as string) as Json);
    this.#closed = new Promise((resolve) => {
      ws.onclose = () => {
        for (const p of this.#pending.values()) {
          p.reject(new Error(`CDP ${p.method}: connection closed`));
        }
        this.#pending.clear();
        resolve();
      };
    });
  }

  static connect(url: string, timeoutMs: number): Promise<Cdp> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`no DevTools connection to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new Cdp(ws));
      };
      ws.onerror = (e) => {
        clearTimeout(timer);
        reject(new Error(`DevTools connection to ${url}: ${(e as ErrorEvent).message ?? e.type}`));
      };
    });
  }

  #receive(msg: Json): void {
    if (typeof msg.id === "number") {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      const error = msg.error as { message?: string } | undefined;
      if (error) p.reject(new Error(`CDP ${p.method}: ${error.message ?? JSON.stringify(error)}`));
      else p.resolve((msg.result ?? {}) as Json);
      return;
    }
    for (const fn of this.#listeners.get(msg.method as string) ?? []) {
      fn((msg.params ?? {}) as Json, msg.sessionId as string | undefined);
    }
  }

  send(method: string, params: Json = {}, sessionId?: string, timeoutMs = 30_000): Promise<Json> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`CDP ${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        method,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(method: string, fn: Listener): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, set = new Set());
    set.add(fn);
    return () => set.delete(fn);
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close();
    await this.#closed;
  }
}

/** A page (tab). */
export class Page {
  /** Errors the page reported: exceptions, console errors, CSP violations and failed loads. */
  readonly errors: string[] = [];
  #cdp: Cdp;
  #session: string;

  /** @internal */
  constructor(cdp: Cdp, session: string) {
    this.#cdp = cdp;
    this.#session = session;
    const mine = (fn: (p: Json) => void): Listener => (p, s) => s === session && fn(p);
    cdp.on(
      "Runtime.exceptionThrown",
      mine((p) => {
        const d = p.exceptionDetails as { text?: string; exception?: { description?: string } };
        this.errors.push(`exception: ${d.exception?.description ?? d.text}`);
      }),
    );
    cdp.on(
      "Runtime.consoleAPICalled",
      mine((p) => {
        if (p.type !== "error") return;
        const args = (p.args as { value?: unknown; description?: string }[]) ?? [];
        this.errors.push(`console.error: ${args.map((a) => a.value ?? a.description).join(" ")}`);
      }),
    );
    cdp.on(
      "Log.entryAdded",
      mine((p) => {
        const e = p.entry as { level: string; text: string; url?: string };
        if (e.level === "error") this.errors.push(`log: ${e.text}${e.url ? ` (${e.url})` : ""}`);
      }),
    );
  }

  /** Sends a DevTools command to this page. */
  send(method: string, params: Json = {}, timeoutMs?: number): Promise<Json> {
    return this.#cdp.send(method, params, this.#session, timeoutMs);
  }

  /** Navigates and waits (bounded) for the load event. */
  async goto(url: string, timeoutMs = 20_000): Promise<void> {
    const loaded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${url}: no load event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.#cdp.on("Page.loadEventFired", (_p, s) => {
        if (s !== this.#session) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
    const r = await this.send("Page.navigate", { url });
    if (r.errorText) throw new Error(`${url}: ${r.errorText}`);
    await loaded;
  }

  /** Evaluates `expression` in the page (promises awaited); returns its JSON value. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
      userGesture: true,
    });
    const ex = r.exceptionDetails as
      | { text?: string; exception?: { description?: string } }
      | undefined;
    if (ex) throw new Error(`${expression}: ${ex.exception?.description ?? ex.text}`);
    return (r.result as { value?: T }).value as T;
  }

  /**
   * Evaluates `expression` every `intervalMs` until it returns a truthy value,
   * which it resolves with; rejects after `timeoutMs` naming `what` and the
   * last value seen.
   */
  async waitFor<T = unknown>(
    expression: string,
    options: { what: string; timeoutMs?: number; intervalMs?: number },
  ): Promise<T> {
    const deadline = performance.now() + (options.timeoutMs ?? 15_000);
    let last: unknown;
    for (;;) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      if (performance.now() > deadline) {
        throw new Error(
          `waited ${options.timeoutMs ?? 15_000} ms for ${options.what}; last value ${
            JSON.stringify(last)
          }; page errors: ${JSON.stringify(this.errors)}`,
        );
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
    }
  }

  /** Presses a key (e.g. "Enter", "Tab") in the focused element, as a keyboard user does. */
  async press(key: "Enter" | "Tab" | " "): Promise<void> {
    const codes = { Enter: 13, Tab: 9, " ": 32 } as const;
    const base = {
      key,
      code: key === " " ? "Space" : key,
      windowsVirtualKeyCode: codes[key],
      ...(key === "Enter" ? { text: "\r" } : key === " " ? { text: " " } : {}),
    };
    await this.send("Input.dispatchKeyEvent", { type: "keyDown", ...base });
    await this.send("Input.dispatchKeyEvent", { type: "keyUp", key, code: base.code });
  }

  /** A PNG screenshot of the whole page. */
  async screenshot(): Promise<Uint8Array> {
    const r = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
    });
    return Uint8Array.from(atob(r.data as string), (c) => c.charCodeAt(0));
  }
}

/** A running browser; disposing it closes the browser and removes its profile. */
export interface Chromium extends AsyncDisposable {
  /** Opens a new page of `width`×`height` CSS pixels. */
  newPage(options?: { width?: number; height?: number }): Promise<Page>;
  /** Grants `permissions` (e.g. "clipboardReadWrite") to `origin`. */
  grant(origin: string, permissions: string[]): Promise<void>;
  /** The browser's last stderr lines (for diagnostics). */
  log(): string[];
}

/** Launches headless Chromium with a fresh profile; waits (bounded) for its DevTools endpoint. */
export async function launchChromium(options: { timeoutMs?: number } = {}): Promise<Chromium> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const profile = await Deno.makeTempDir({ prefix: "guix-p2p-chromium-" });
  const child = new Deno.Command(CHROMIUM, {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { HOME: profile },
  }).spawn();
  const lines: string[] = [];
  const endpoint = Promise.withResolvers<string>();
  const pump = (async () => {
    let buf = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (lines.length > 50) lines.shift();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(line);
        if (m) endpoint.resolve(m[1]!);
      }
    }
  })();
  const exited = child.status;
  const kill = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await exited;
    await pump.catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cdp: Cdp;
  try {
    const url = await Promise.race([
      endpoint.promise,
      exited.then((s) => {
        throw new Error(`${CHROMIUM} exited (${s.code}) before listening:\n${lines.join("\n")}`);
      }),
      new Promise<never>((_, reject) =>
        timer = setTimeout(
          () => reject(new Error(`${CHROMIUM}: no DevTools endpoint within ${timeoutMs} ms`)),
          timeoutMs,
        )
      ),
    ]);
    cdp = await Cdp.connect(url, timeoutMs);
  } catch (e) {
    await kill();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return {
    async newPage({ width = 1280, height = 900 } = {}) {
      const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
      const page = new Page(cdp, sessionId as string);
      await page.send("Page.enable");
      await page.send("Runtime.enable");
      await page.send("Log.enable");
      await page.send("Emulation.setDeviceMetricsOverride", {
        width,
        height,
        deviceScaleFactor: 1,
        mobile: false,
      });
      await page.send("Emulation.setFocusEmulationEnabled", { enabled: true });
      return page;
    },
    async grant(origin, permissions) {
      await cdp.send("Browser.grantPermissions", { origin, permissions });
    },
    log: () => [...lines],
    async [Symbol.asyncDispose]() {
      let closeTimer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        (async () => {
          await cdp.send("Browser.close", {}, undefined, 5000).catch(() => {});
          await exited;
        })(),
        new Promise((r) => closeTimer = setTimeout(r, 5000)),
      ]);
      clearTimeout(closeTimer);
      await cdp.close().catch(() => {});
      await kill();
    },
  };
}
