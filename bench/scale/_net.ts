/**
 * The simulated network of the scale simulation: every node reaches every
 * other over a link with the same one-way latency; each node's uplink sends
 * one thing at a time at its bandwidth (FIFO); each node keeps at most
 * `maxConnections` connections open (least recently used closed first).
 *
 * Cost of one DHT request, as js-libp2p 3 over TCP + Noise + Yamux pays it:
 * - a dial when no connection is open: `dialRtts` round trips (TCP, the
 *   multistream-select of Noise, the Noise XX handshake, the
 *   multistream-select of Yamux: 4);
 * - a new stream per request, whose protocol is negotiated by
 *   multistream-select before the request is written: `streamRtts` (1);
 * - the request and its response: one round trip plus each side's uplink
 *   queueing and transmission of the bytes.
 * A node that has left answers nothing: requests and dials to it hang until
 * the caller's timeout. Bytes are counted as the protobuf messages with their
 * length prefix ("payload") and with an estimate of what the layers below add
 * ("wire": {@linkcode STREAM_OVERHEAD} per stream, {@linkcode DIAL_BYTES} per
 * dial).
 *
 * @example
 * ```ts
 * const net = new SimNetwork(clock, { nodes: 100, latencyMs: 50, uplinkBytesPerSecond: 1.25e6, maxConnections: 64 });
 * const reply = await net.request(0, 1, 60, signal, async () => ({ bytes: 900, value: "ok" }));
 * ```
 * @module
 */
import type { VirtualClock } from "./_clock.ts";

/**
 * Bytes the layers below a DHT message add per stream, both directions
 * together: multistream-select header and protocol id each way (~2 × 40),
 * Yamux frames opening, carrying and closing the stream (~6 × 12), Noise
 * tags and lengths (~4 × 18), TCP/IP headers of the segments (~4 × 52).
 */
export const STREAM_OVERHEAD = 2 * 40 + 6 * 12 + 4 * 18 + 4 * 52;
/** Bytes of a dial (TCP handshake, Noise XX with keys and payloads, identify both ways). */
export const DIAL_BYTES = 3000;

/** Options of {@linkcode SimNetwork}. */
export interface SimNetworkOptions {
  nodes: number;
  /** One-way latency of every link (ms). */
  latencyMs: number;
  /** Each one-way delay varies by up to this fraction either way (default 0). */
  jitter?: number;
  /** Uplink of every node. */
  uplinkBytesPerSecond: number;
  /** Connections a node keeps open. */
  maxConnections: number;
  /** Round trips of a dial (default 4). */
  dialRtts?: number;
  /** Round trips to open a stream before the request (default 1). */
  streamRtts?: number;
}

/** Traffic counters of one node. */
export interface Traffic {
  /** Messages sent, by kind. */
  sent: Map<string, number>;
  received: Map<string, number>;
  payloadOut: number;
  payloadIn: number;
  wireOut: number;
  wireIn: number;
  dials: number;
}

/** Thrown to the caller of a request that its signal aborted. */
export class SimTimeoutError extends Error {
  override name = "TimeoutError";
}

/** The simulated network. */
export class SimNetwork {
  readonly alive: Uint8Array;
  readonly traffic: Traffic[];
  #o: Required<SimNetworkOptions>;
  #clock: VirtualClock;
  #uplinkFree: Float64Array;
  #conns: Map<number, true>[];
  #rand: () => number;
  /** Called when a connection opens (both ends; for kad-dht's topology listener). */
  onConnect: (a: number, b: number) => void = () => {};

  /** Creates the network (all nodes alive, no connections). */
  constructor(clock: VirtualClock, options: SimNetworkOptions, rand: () => number = Math.random) {
    this.#o = { jitter: 0, dialRtts: 4, streamRtts: 1, ...options };
    this.#clock = clock;
    this.#rand = rand;
    this.alive = new Uint8Array(options.nodes).fill(1);
    this.#uplinkFree = new Float64Array(options.nodes);
    this.#conns = Array.from({ length: options.nodes }, () => new Map());
    this.traffic = Array.from({ length: options.nodes }, () => emptyTraffic());
  }

  /** One-way latency (ms). */
  get latencyMs(): number {
    return this.#o.latencyMs;
  }

  /** Whether `a` and `b` are connected. */
  connected(a: number, b: number): boolean {
    return this.#conns[a]!.has(b);
  }

  /** Resets every counter. */
  resetTraffic(): void {
    for (let i = 0; i < this.traffic.length; i++) this.traffic[i] = emptyTraffic();
  }

  /** Node `i` leaves: it answers nothing from now on and its connections close. */
  leave(i: number): void {
    this.alive[i] = 0;
    for (const j of this.#conns[i]!.keys()) this.#conns[j]!.delete(i);
    this.#conns[i]!.clear();
  }

  /**
   * A request from `from` to `to` of `bytes` (payload), answered by `serve`
   * at `to` at the simulated time of arrival. Resolves with the response
   * after its transmission and latency; rejects when `signal` aborts first.
   */
  async request<T>(
    from: number,
    to: number,
    kind: string,
    bytes: number,
    signal: AbortSignal | undefined,
    serve: () => Promise<{ bytes: number; value: T }>,
  ): Promise<T> {
    await this.#open(from, to, signal);
    this.#count(from, to, kind, bytes);
    await this.#until(this.#transmit(from, bytes) + this.#delay(), signal);
    if (!this.alive[to]) await this.#until(Infinity, signal);
    const reply = await serve();
    this.#count(to, from, `${kind}:reply`, reply.bytes, 0);
    await this.#until(this.#transmit(to, reply.bytes) + this.#delay(), signal);
    if (!this.alive[from]) await this.#until(Infinity, signal);
    return reply.value;
  }

  /**
   * A one-way message (ADD_PROVIDER): resolves for the sender once written
   * (after the stream's negotiation and its transmission); `deliver` runs at
   * `to` when it arrives.
   */
  async message(
    from: number,
    to: number,
    kind: string,
    bytes: number,
    signal: AbortSignal | undefined,
    deliver: () => Promise<void>,
  ): Promise<void> {
    await this.#open(from, to, signal);
    this.#count(from, to, kind, bytes);
    const sent = this.#transmit(from, bytes);
    const arrive = sent + this.#delay();
    this.#clock.set(() => {
      if (this.alive[to]) void deliver().catch(() => {});
    }, arrive - this.#clock.now);
    await this.#until(sent, signal);
  }

  /**
   * Several one-way messages on one stream (a batch of ADD_PROVIDER): one
   * stream negotiation and one stream's overhead for all of them.
   */
  async messages(
    from: number,
    to: number,
    kind: string,
    sizes: number[],
    signal: AbortSignal | undefined,
    deliver: (index: number) => Promise<void>,
  ): Promise<void> {
    await this.#open(from, to, signal);
    let last = this.#clock.now;
    sizes.forEach((bytes, i) => {
      this.#count(from, to, kind, bytes, i === 0 ? STREAM_OVERHEAD : 0);
      last = this.#transmit(from, bytes);
      const arrive = last + this.#delay();
      this.#clock.set(() => {
        if (this.alive[to]) void deliver(i).catch(() => {});
      }, arrive - this.#clock.now);
    });
    await this.#until(last, signal);
  }

  /** A ping (for kad-dht's routing table): one round trip on a connection. */
  async ping(from: number, to: number, signal: AbortSignal | undefined): Promise<void> {
    await this.#open(from, to, signal);
    this.#count(from, to, "PING", 32);
    await this.#until(this.#clock.now + 2 * this.#delay(), signal);
    if (!this.alive[to]) await this.#until(Infinity, signal);
  }

  /** Dial if needed, then negotiate the stream's protocol. */
  async #open(from: number, to: number, signal: AbortSignal | undefined): Promise<void> {
    const rtt = () => 2 * this.#delay();
    if (!this.#conns[from]!.has(to)) {
      this.traffic[from]!.dials++;
      this.traffic[from]!.wireOut += DIAL_BYTES / 2;
      this.traffic[to]!.wireIn += DIAL_BYTES / 2;
      await this.#until(this.#clock.now + this.#o.dialRtts * rtt(), signal);
      if (!this.alive[to]) await this.#until(Infinity, signal);
      if (!this.#conns[from]!.has(to)) {
        this.#connect(from, to);
        this.onConnect(from, to);
      }
    } else {
      this.#touch(from, to);
    }
    if (this.#o.streamRtts > 0) {
      await this.#until(this.#clock.now + this.#o.streamRtts * rtt(), signal);
      if (!this.alive[to]) await this.#until(Infinity, signal);
    }
  }

  #connect(a: number, b: number): void {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const m = this.#conns[x]!;
      m.set(y, true);
      if (m.size > this.#o.maxConnections) {
        const oldest = m.keys().next().value!;
        m.delete(oldest);
        this.#conns[oldest]!.delete(x);
      }
    }
  }

  #touch(a: number, b: number): void {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const m = this.#conns[x]!;
      if (m.delete(y)) m.set(y, true);
    }
  }

  /** When `bytes` sent by `from` now have left its uplink. */
  #transmit(from: number, bytes: number): number {
    const start = Math.max(this.#clock.now, this.#uplinkFree[from]!);
    const done = start + (bytes / this.#o.uplinkBytesPerSecond) * 1000;
    this.#uplinkFree[from] = done;
    return done;
  }

  #delay(): number {
    const j = this.#o.jitter;
    return this.#o.latencyMs * (j > 0 ? 1 + j * (2 * this.#rand() - 1) : 1);
  }

  #count(from: number, to: number, kind: string, bytes: number, overhead = STREAM_OVERHEAD): void {
    const a = this.traffic[from]!;
    const b = this.traffic[to]!;
    a.sent.set(kind, (a.sent.get(kind) ?? 0) + 1);
    b.received.set(kind, (b.received.get(kind) ?? 0) + 1);
    a.payloadOut += bytes;
    b.payloadIn += bytes;
    a.wireOut += bytes + overhead / 2;
    b.wireIn += bytes + overhead / 2;
  }

  /** Resolves at simulated time `at`, or rejects when `signal` aborts first. */
  #until(at: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new SimTimeoutError("aborted"));
    if (at <= this.#clock.now) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const id = at === Infinity ? undefined : this.#clock.set(done, at - this.#clock.now);
      const onAbort = () => {
        if (id !== undefined) this.#clock.clear(id);
        reject(signal!.reason ?? new SimTimeoutError("aborted"));
      };
      function done() {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

function emptyTraffic(): Traffic {
  return {
    sent: new Map(),
    received: new Map(),
    payloadOut: 0,
    payloadIn: 0,
    wireOut: 0,
    wireIn: 0,
    dials: 0,
  };
}
