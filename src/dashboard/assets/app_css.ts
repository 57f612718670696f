/**
 * The dashboard's style sheet: light and dark themes via
 * `prefers-color-scheme`, system fonts, no external resources.
 *
 * @example
 * ```ts
 * import { APP_CSS } from "./app_css.ts";
 * new Response(APP_CSS, { headers: { "content-type": "text/css; charset=utf-8" } });
 * ```
 * @module
 */

/** The style sheet. */
export const APP_CSS = `:root {
  --bg: #f6f7f5; --card: #ffffff; --fg: #1d2320; --muted: #5b655f; --line: #d9dfdb;
  --accent: #2f7d4f; --accent-fg: #ffffff; --p2p: #2f7d4f; --http: #3b6fb6; --warn: #a85a00;
  --bad: #b3261e; --track: #e4e9e6; --focus: #f0b429;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121614; --card: #1b201d; --fg: #e6ebe8; --muted: #9aa6a0; --line: #2e3632;
    --accent: #5cc48a; --accent-fg: #0d1a12; --p2p: #5cc48a; --http: #7aa7ea; --warn: #f0a74a;
    --bad: #ff8a80; --track: #2a322e;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
}
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
a { color: var(--accent); }
.muted { color: var(--muted); font-weight: normal; }
.top {
  display: flex; align-items: center; justify-content: space-between; gap: 1rem;
  padding: 0.8rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--card);
}
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 0 0 0.6rem; }
h3 { font-size: 0.9rem; margin: 0.8rem 0 0.3rem; color: var(--muted); font-weight: 600; }
main {
  display: grid; gap: 1rem; padding: 1rem 1.2rem;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 28rem), 1fr));
}
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; min-width: 0; }
.span { grid-column: 1 / -1; }
.badge {
  display: inline-block; margin: 0; padding: 0.1rem 0.6rem; border-radius: 999px;
  border: 1px solid var(--line); font-size: 0.85rem;
}
.badge[data-state="live"], .badge[data-state="shareable"] { border-color: var(--p2p); color: var(--p2p); }
.badge[data-state="reconnecting"], .badge[data-state="no-shareable-address"] { border-color: var(--warn); color: var(--warn); }
.badge[data-state="daemon-not-running"] { border-color: var(--bad); color: var(--bad); }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: 0.6rem 1rem; margin: 0; }
.facts .wide { grid-column: 1 / -1; }
.facts dt { color: var(--muted); font-size: 0.8rem; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.plain { list-style: none; margin: 0; padding: 0; }
pre {
  margin: 0 0 0.4rem; padding: 0.5rem 0.6rem; background: var(--bg); border: 1px solid var(--line);
  border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere;
}
button {
  font: inherit; padding: 0.35rem 0.9rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-fg); cursor: pointer;
}
button:hover { filter: brightness(1.08); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
#copy-status { min-height: 1.4em; margin: 0.3rem 0 0; color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 0.8rem; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.state-banned { color: var(--bad); font-weight: 600; }
td.state-connected { color: var(--p2p); }
.transfers, .events { list-style: none; margin: 0; padding: 0; }
.transfer { padding: 0.6rem 0; border-bottom: 1px solid var(--line); }
.transfer:last-child { border-bottom: 0; }
.t-head { display: flex; justify-content: space-between; gap: 1rem; }
.t-name { font-weight: 600; overflow-wrap: anywhere; }
.t-state[data-state="failed"] { color: var(--bad); }
.t-state[data-state="done"] { color: var(--p2p); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.t-figures, .t-split-text { margin: 0.2rem 0 0; font-size: 0.85rem; color: var(--muted); font-variant-numeric: tabular-nums; }
.split { display: flex; height: 0.75rem; border-radius: 4px; overflow: hidden; background: var(--track); margin-top: 0.35rem; }
.split .p2p { background: var(--p2p); }
.split .http { background: var(--http); }
.key { display: inline-block; width: 0.7em; height: 0.7em; border-radius: 2px; margin-right: 0.25em; vertical-align: baseline; }
.key.p2p { background: var(--p2p); }
.key.http { background: var(--http); }
.t-peers { margin: 0.2rem 0 0; padding-left: 1.2rem; font-size: 0.85rem; color: var(--muted); }
.events li { display: grid; grid-template-columns: 6.5em 11em 1fr; gap: 0.5rem; padding: 0.2rem 0; border-bottom: 1px solid var(--line); font-size: 0.88rem; }
.events time { color: var(--muted); font-variant-numeric: tabular-nums; }
.events .e-type { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.85em; }
.events .e-warn { color: var(--warn); }
.events .e-text { overflow-wrap: anywhere; }
footer { padding: 0 1.2rem 1.2rem; font-size: 0.85rem; }
@media (max-width: 40rem) { .events li { grid-template-columns: 1fr; gap: 0; } }
`;
