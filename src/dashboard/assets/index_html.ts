/**
 * The dashboard page (embedded so that `deno compile` carries it; no build
 * step, nothing fetched from elsewhere). Script and style are separate files
 * of the dashboard, so the Content-Security-Policy needs no inline code.
 *
 * @example
 * ```ts
 * import { INDEX_HTML } from "./index_html.ts";
 * new Response(INDEX_HTML, { headers: { "content-type": "text/html; charset=utf-8" } });
 * ```
 * @module
 */

/** The page. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>guix-p2p dashboard</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1>guix-p2p <span id="version" class="muted"></span></h1>
  <p id="connection" class="badge" data-state="connecting" role="status">connecting…</p>
</header>
<main>
<section id="node" aria-labelledby="node-title" class="card">
  <h2 id="node-title">Node</h2>
  <dl class="facts">
    <div class="wide"><dt>Peer ID</dt><dd><code id="peer-id">—</code></dd></div>
    <div><dt>Uptime</dt><dd id="uptime">—</dd></div>
    <div><dt>Policy</dt><dd id="policy">—</dd></div>
    <div><dt>DHT</dt><dd id="dht">—</dd></div>
    <div><dt>Connections</dt><dd id="connections">—</dd></div>
    <div><dt>Seeds</dt><dd id="seed-count">—</dd></div>
    <div><dt>Block cache</dt><dd id="cache">—</dd></div>
    <div class="wide"><dt>NAT</dt><dd id="nat">—</dd></div>
    <div class="wide"><dt>Addresses</dt><dd><ul id="listen" class="plain"></ul></dd></div>
  </dl>
</section>
<section id="share" aria-labelledby="share-title" class="card">
  <h2 id="share-title">Share this node</h2>
  <p><span id="share-state" class="badge" data-state="unknown">…</span> <span id="share-detail"></span></p>
  <div id="share-lines" hidden>
    <h3 id="share-toml-label">In a neighbour's <code>config.toml</code></h3>
    <pre id="share-toml" aria-labelledby="share-toml-label" tabindex="0"></pre>
    <button type="button" id="copy-toml" data-copy="share-toml" aria-describedby="share-toml-label">Copy TOML line</button>
    <h3 id="share-scheme-label">In a neighbour's Guix System service</h3>
    <pre id="share-scheme" aria-labelledby="share-scheme-label" tabindex="0"></pre>
    <button type="button" id="copy-scheme" data-copy="share-scheme" aria-describedby="share-scheme-label">Copy Scheme field</button>
    <p id="copy-status" role="status" aria-live="polite"></p>
  </div>
</section>
<section id="transfers" aria-labelledby="transfers-title" class="card span">
  <h2 id="transfers-title">Transfers</h2>
  <p id="no-transfers" class="muted">No transfer since the daemon started.</p>
  <ol id="transfer-list" class="transfers"></ol>
</section>
<section id="peers" aria-labelledby="peers-title" class="card span">
  <h2 id="peers-title">Peers <span id="peer-total" class="muted"></span></h2>
  <div class="scroll" tabindex="0" role="region" aria-labelledby="peers-title">
  <table>
    <thead><tr>
      <th scope="col">Peer</th><th scope="col">Address</th><th scope="col">Agent</th>
      <th scope="col" class="num">Latency</th><th scope="col" class="num">Sent</th>
      <th scope="col" class="num">Received</th><th scope="col" class="num">Score</th><th scope="col">State</th>
    </tr></thead>
    <tbody id="peer-rows"></tbody>
  </table>
  </div>
</section>
<section id="seeds" aria-labelledby="seeds-title" class="card span">
  <h2 id="seeds-title">Seeds <span id="seed-total" class="muted"></span></h2>
  <div class="scroll" tabindex="0" role="region" aria-labelledby="seeds-title">
  <table>
    <thead><tr>
      <th scope="col">Store item</th><th scope="col" class="num">NAR size</th><th scope="col">Kind</th><th scope="col">Origin</th>
    </tr></thead>
    <tbody id="seed-rows"></tbody>
  </table>
  </div>
</section>
<section id="events" aria-labelledby="events-title" class="card span">
  <h2 id="events-title">Recent events</h2>
  <ol id="event-list" class="events" aria-live="off"></ol>
</section>
</main>
<footer class="muted">Read-only view of this guix-p2p daemon. JSON:
  <a href="/api/status">status</a>, <a href="/api/peers">peers</a>, <a href="/api/transfers">transfers</a>,
  <a href="/api/seeds">seeds</a>, <a href="/api/events">events</a>, <a href="/api/share-info">share-info</a>.</footer>
</body>
</html>
`;
