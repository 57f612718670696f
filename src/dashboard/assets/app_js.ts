/**
 * The dashboard's script (plain browser JavaScript, no framework, no build).
 * It opens `/api/stream`, renders the `snapshot` and applies later events.
 * Every value is written with `textContent`, never as HTML: peer-supplied
 * strings (agents, addresses, error messages) cannot inject markup.
 *
 * @example
 * ```ts
 * import { APP_JS } from "./app_js.ts";
 * new Response(APP_JS, { headers: { "content-type": "text/javascript; charset=utf-8" } });
 * ```
 * @module
 */

/** The script. */
export const APP_JS = String.raw`"use strict";
(function () {
  var byId = function (id) { return document.getElementById(id); };
  var MAX_EVENTS = 200;
  var state = { lastEventId: 0, uptime: 0, uptimeAt: 0 };

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function setText(id, value) { byId(id).textContent = value === undefined || value === null ? "—" : String(value); }
  function bytes(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var v = Number(n) || 0, i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(1) : String(Math.round(v))) + " " + units[i];
  }
  function duration(s) {
    s = Math.max(0, Math.floor(s));
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " min";
    if (m) return m + " min " + (s % 60) + " s";
    return s + " s";
  }
  function shortId(id) { return id && id.length > 20 ? id.slice(0, 10) + "…" + id.slice(-6) : (id || "—"); }
  function itemName(path) {
    var base = String(path || "").split("/").pop() || "";
    return /^[0-9a-df-np-sv-z]{32}-/.test(base) ? base.slice(33) : base;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function sourceName(kind) { return kind === "p2p" ? "peers" : kind === "http" ? "HTTP" : "—"; }

  function renderStatus(s) {
    if (!s) return;
    setText("version", s.version);
    state.uptime = s.uptimeSeconds; state.uptimeAt = Date.now();
    setText("uptime", duration(s.uptimeSeconds));
    setText("policy", s.policy);
    var p = s.p2p;
    setText("peer-id", p ? p.peerId : "P2P not running");
    setText("dht", p ? p.dhtMode + ", " + p.dhtPeers + " peer" + (p.dhtPeers === 1 ? "" : "s") : null);
    setText("connections", p ? p.connections : null);
    setText("seed-count", p ? p.seeds : null);
    setText("cache", p ? bytes(p.cacheBytes) : null);
    setText("nat", p && p.nat ? natText(p.nat) : null);
    var list = byId("listen"); clear(list);
    (p ? p.listen : []).forEach(function (a) { var li = el("li"); li.appendChild(el("code", "", a)); list.appendChild(li); });
    if (!p || p.listen.length === 0) list.appendChild(el("li", "muted", "no listen address"));
  }

  function natText(n) {
    return "reachability " + n.reachability + (n.autonat ? "" : " (AutoNAT off)") +
      "; relays: " + (n.relayReservations.length ? n.relayReservations.map(shortId).join(", ") : "none") +
      (n.relayService ? "; relay service on" : "") +
      "; hole punching " + (n.holePunching ? "on (" + n.directUpgrades + " direct upgrade" + (n.directUpgrades === 1 ? "" : "s") + ")" : "off") +
      "; UPnP " + n.upnp +
      "; received " + bytes(n.bytesDirect) + " direct, " + bytes(n.bytesRelayed) + " through relays";
  }

  function renderShare(info) {
    if (!info) return;
    var badge = byId("share-state");
    badge.textContent = info.state; badge.dataset.state = info.state;
    setText("share-detail", info.detail);
    var lines = byId("share-lines");
    lines.hidden = info.state !== "shareable";
    byId("share-toml").textContent = info.toml || "";
    byId("share-scheme").textContent = info.scheme || "";
  }

  function renderPeers(data) {
    if (!data) return;
    var body = byId("peer-rows"); clear(body);
    setText("peer-total", "(" + data.total + (data.total > data.peers.length ? ", " + data.peers.length + " shown" : "") + ")");
    data.peers.forEach(function (p) {
      var tr = el("tr");
      var id = el("td"); var code = el("code", "", shortId(p.peerId)); code.title = p.peerId; id.appendChild(code); tr.appendChild(id);
      var addr = el("td", "mono", p.addresses[0] || "—"); addr.title = p.addresses.join("\n"); tr.appendChild(addr);
      tr.appendChild(el("td", "", p.agent || "—"));
      tr.appendChild(el("td", "num", p.latencyMs === null ? "—" : Math.round(p.latencyMs) + " ms"));
      tr.appendChild(el("td", "num", bytes(p.bytesUp)));
      tr.appendChild(el("td", "num", bytes(p.bytesDown)));
      tr.appendChild(el("td", "num", p.score));
      var st = p.banned ? "banned" : p.connected ? "connected" : "known";
      tr.appendChild(el("td", "state-" + st, st));
      body.appendChild(tr);
    });
    if (data.peers.length === 0) { var tr = el("tr"); var td = el("td", "muted", "No peer yet."); td.colSpan = 8; tr.appendChild(td); body.appendChild(tr); }
  }

  function renderSeeds(data) {
    if (!data) return;
    var body = byId("seed-rows"); clear(body);
    setText("seed-total", "(" + data.total + ", " + bytes(data.totalBytes) + (data.total > data.seeds.length ? ", " + data.seeds.length + " shown" : "") + ")");
    data.seeds.forEach(function (s) {
      var tr = el("tr");
      var name = el("td", "mono", s.storePath || s.narHash); name.title = s.narHash; tr.appendChild(name);
      tr.appendChild(el("td", "num", bytes(s.narSize)));
      tr.appendChild(el("td", "", s.kind));
      tr.appendChild(el("td", "", s.origin));
      body.appendChild(tr);
    });
    if (data.seeds.length === 0) { var tr = el("tr"); var td = el("td", "muted", "Nothing seeded."); td.colSpan = 4; tr.appendChild(td); body.appendChild(tr); }
  }

  function renderTransfer(t) {
    var li = el("li", "transfer");
    li.dataset.id = t.id; li.dataset.state = t.state;
    var head = el("div", "t-head");
    var name = el("span", "t-name", itemName(t.storePath)); name.title = t.storePath; head.appendChild(name);
    var st = el("span", "t-state", t.state === "active" ? "via " + sourceName(t.source) : t.state); st.dataset.state = t.state; head.appendChild(st);
    li.appendChild(head);
    var size = Math.max(1, t.narSize);
    var pct = Math.min(100, Math.floor(t.bytes * 100 / size));
    var bar = el("progress", "sr-only"); bar.max = size; bar.value = Math.min(t.bytes, size);
    bar.setAttribute("aria-label", itemName(t.storePath) + ": " + pct + "%");
    li.appendChild(bar);
    var figures = bytes(t.bytes) + " of " + bytes(t.narSize) + " · " + pct + "%";
    if (t.state === "active") figures += " · " + bytes(t.rate) + "/s";
    else if (t.endedAt) figures += " in " + ((t.endedAt - t.startedAt) / 1000).toFixed(1) + " s";
    if (t.error) figures += " · " + t.error;
    var figuresLine = el("p", "t-figures", figures);
    var split = el("div", "split");
    split.setAttribute("aria-hidden", "true");
    ["p2p", "http"].forEach(function (k) {
      var part = el("span", k); part.style.width = (t.split[k] * 100 / size) + "%"; split.appendChild(part);
    });
    li.appendChild(split);
    li.appendChild(figuresLine);
    var legend = el("p", "t-split-text");
    ["p2p", "http"].forEach(function (k) {
      var item = el("span", "split-" + k);
      item.appendChild(el("span", "key " + k));
      item.appendChild(document.createTextNode(sourceName(k) + " " + bytes(t.split[k]) + "  "));
      legend.appendChild(item);
    });
    li.appendChild(legend);
    if (t.peers.length) {
      var ul = el("ul", "t-peers");
      ul.setAttribute("aria-label", "bytes received from each peer");
      t.peers.slice(0, 8).forEach(function (p) {
        var item = el("li"); var c = el("code", "", shortId(p.peer)); c.title = p.peer;
        item.appendChild(c); item.appendChild(document.createTextNode(" " + bytes(p.bytes))); ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    return li;
  }

  function renderTransfers(data) {
    if (!data) return;
    var list = byId("transfer-list"); clear(list);
    data.transfers.forEach(function (t) { list.appendChild(renderTransfer(t)); });
    byId("no-transfers").hidden = data.transfers.length > 0;
  }

  var WARN = { "daemon:warning": 1, "transfer:failed": 1, "transfer:source-failed": 1, "peer:penalised": 1, "manifest:rejected": 1, "narinfo:server-error": 1, "stream:rejected": 1 };
  function summary(e) {
    var d = e.data || {};
    switch (e.type) {
      case "transfer:started": return itemName(d.storePath) + " (" + bytes(d.narSize) + ", " + d.policy + ")";
      case "transfer:source": return sourceName(d.source) + " " + d.url + " from byte " + d.offset;
      case "transfer:done": return itemName(d.storePath) + ": " + bytes(d.bytes) + " in " + (d.durationMs / 1000).toFixed(1) + " s from " + (d.sources || []).map(function (s) { return sourceName(s.source) + " " + bytes(s.bytes); }).join(", ");
      case "transfer:failed": return itemName(d.storePath) + ": " + d.error;
      case "transfer:source-failed": return sourceName(d.source) + " " + d.url + " at byte " + d.offset + ": " + d.error;
      case "peer:connected": return shortId(d.peer) + " from " + d.address;
      case "peer:disconnected": return shortId(d.peer);
      case "peer:discovered": return shortId(d.peer);
      case "peer:penalised": return shortId(d.peer) + (d.banned ? " banned: " : ": ") + d.reason;
      case "seed:added": return (d.storePath || d.narHash) + " (" + d.origin + ")";
      case "seed:removed": return d.narHash;
      case "providers:found": return d.count + " provider(s) in " + d.ms + " ms";
      case "p2p:started": return shortId(d.peerId) + " (DHT " + d.dhtMode + ")";
      case "dht:size": return d.peers + " peer(s) in the routing table";
      case "provide:done": return "announced " + String(d.narHash).slice(0, 16) + "… in " + d.ms + " ms" + (d.error ? ": " + d.error : "");
      case "dashboard:started": return d.url;
      case "acl:loaded": return d.path + ": " + d.keys + " key(s)";
      case "download:peer-dropped": return shortId(d.peer) + ": " + d.reason;
      case "manifest:rejected": return shortId(d.peer) + ": " + d.reason;
      case "narinfo:server-error": return d.url + ": " + d.message;
      case "gateway:request": return d.method + " " + d.path + " " + d.status + (d.detail ? ": " + d.detail : "");
      case "stream:rejected": return shortId(d.peer) + ": " + d.reason;
      case "daemon:stopping": return d.reason;
      case "daemon:started": return "guix-p2p " + d.version + " (pid " + d.pid + ")";
      case "daemon:warning": return d.message;
      case "substitution:recorded": return itemName(d.storePath) + " (" + sourceName(d.source) + ")";
      default:
        var text = JSON.stringify(d);
        return text.length > 200 ? text.slice(0, 200) + "…" : text;
    }
  }

  function addEvents(events) {
    var list = byId("event-list");
    events.forEach(function (e) {
      if (e.id <= state.lastEventId) return;
      state.lastEventId = e.id;
      var li = el("li");
      var t = new Date(e.time);
      var time = el("time", "", t.toLocaleTimeString()); time.dateTime = t.toISOString(); li.appendChild(time);
      li.appendChild(el("span", "e-type" + (WARN[e.type] ? " e-warn" : ""), e.type));
      li.appendChild(el("span", "e-text", summary(e)));
      list.insertBefore(li, list.firstChild);
    });
    while (list.children.length > MAX_EVENTS) list.removeChild(list.lastChild);
    if (list.children.length === 0) list.appendChild(el("li", "muted", "No event yet."));
    else Array.prototype.forEach.call(list.querySelectorAll("li.muted"), function (n) { n.remove(); });
  }

  function setConnection(s, text) { var b = byId("connection"); b.dataset.state = s; b.textContent = text; }

  function connect() {
    var source = new EventSource("/api/stream");
    function on(name, fn) { source.addEventListener(name, function (m) { fn(JSON.parse(m.data)); }); }
    source.onopen = function () { setConnection("live", "live"); };
    source.onerror = function () { setConnection("reconnecting", "reconnecting…"); };
    on("snapshot", function (s) {
      setConnection("live", "live");
      renderStatus(s.status); renderShare(s.shareInfo); renderPeers(s.peers); renderSeeds(s.seeds);
      renderTransfers(s.transfers); addEvents(s.events ? s.events.events : []);
    });
    on("status", renderStatus);
    on("peers", renderPeers);
    on("seeds", renderSeeds);
    on("share-info", renderShare);
    on("transfers", renderTransfers);
    on("event", function (e) { addEvents([e]); });
  }

  function copy(button) {
    var target = byId(button.dataset.copy);
    var status = byId("copy-status");
    var text = target.textContent;
    function fallback() {
      var range = document.createRange(); range.selectNodeContents(target);
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      status.textContent = "Selected: press Ctrl+C to copy.";
    }
    if (!navigator.clipboard) { fallback(); return; }
    navigator.clipboard.writeText(text).then(function () {
      status.textContent = "Copied to the clipboard.";
    }, fallback);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (b) {
      b.addEventListener("click", function () { copy(b); });
    });
    setInterval(function () {
      if (state.uptimeAt) setText("uptime", duration(state.uptime + (Date.now() - state.uptimeAt) / 1000));
    }, 1000);
    connect();
  });
})();
`;
