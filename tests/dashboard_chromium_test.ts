/**
 * The dashboard in a real headless Chromium, against real daemons: a seeder
 * and a leecher (rate-limited so the transfer lasts seconds) on 127.0.0.1;
 * the leecher substitutes an item from the seeder through the guix-daemon
 * emulator while the page shows the transfer advancing live; the copy button,
 * pressed from the keyboard, puts the share-info line on the clipboard.
 * Screenshots go to a temporary directory, or to docs/ with
 * GUIX_P2P_UPDATE_SCREENSHOTS=1.
 */
import { assert, assertEquals, assertGreater, assertMatch } from "@std/assert";
import { launchChromium } from "./support/chromium.ts";
import { helperAgent, ROOT } from "./support/daemon_proc.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { randomBytes } from "./support/random.ts";
import { seedCopy, startSwarm, waitForDht } from "./support/swarm.ts";
import { assertRestored } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };
const NAR_MIB = 8;
const RATE = "2MiB"; // the leecher's max_download_rate: the transfer lasts ~4 s
const ANNOUNCED = "/ip4/192.0.2.10/tcp/6881"; // TEST-NET-1: a shareable address, never dialled

interface TransferRow {
  state: string;
  value: number;
  max: number;
  figures: string;
  split: string;
}

/** The page's first transfer row, as a user sees it. */
const TRANSFER_ROW = `(() => {
  const li = document.querySelector("#transfer-list li.transfer");
  if (!li) return null;
  const bar = li.querySelector("progress");
  return { state: li.dataset.state, value: bar.value, max: bar.max,
    figures: li.querySelector(".t-figures").textContent,
    split: li.querySelector(".t-split-text").textContent };
})()`;

Deno.test(
  "dashboard in Chromium: live status, a transfer advancing, copy to clipboard",
  T,
  async () => {
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-dashboard-" }));
    const { root } = world;
    const shots = Deno.env.get("GUIX_P2P_UPDATE_SCREENSHOTS") === "1" ? `${ROOT}/docs` : root;
    const leecherStore = `${root}/n1/store`;
    const src = `${root}/src`;
    await Deno.mkdir(`${src}/lib`, { recursive: true });
    await Deno.writeFile(`${src}/lib/libbig.so`, randomBytes(NAR_MIB * 1024 * 1024));
    await Deno.writeTextFile(`${src}/README`, "a large item for the dashboard test\n");
    const item = await world.item(src, "big-1.0", leecherStore);
    await using swarm = await startSwarm(root, 2, (i) =>
      i === 1
        ? {
          ...world.leecherSettings(leecherStore),
          dashboard_listen: "127.0.0.1:0",
          max_download_rate: RATE,
          announce: [ANNOUNCED],
          log_level: "debug",
        }
        : {});
    const [seeder, leecher] = swarm as unknown as [typeof swarm[0], typeof swarm[0]];
    const line = await leecher.daemon.waitForLog(/dashboard on (http:\S+)/);
    const url = /dashboard on (http:\S+)/.exec(line)![1]!;
    const origin = new URL(url).origin;
    await seedCopy(seeder, item.source, item.baseName);
    await waitForDht(leecher, 1);

    await using browser = await launchChromium();
    await browser.grant(origin, ["clipboardReadWrite", "clipboardSanitizedWrite"]);
    const page = await browser.newPage({ width: 1280, height: 1000 });
    await page.goto(url);

    // The node's status, from the live stream.
    await page.waitFor(`document.getElementById("connection").dataset.state === "live"`, {
      what: "the event stream to connect",
    });
    assertEquals(
      await page.evaluate(`document.getElementById("peer-id").textContent`),
      leecher.peerId,
    );
    assertEquals(await page.evaluate(`document.getElementById("policy").textContent`), "p2p-only");
    assertEquals(await page.evaluate(`document.getElementById("version").textContent`), "0.1.0");
    // NAT traversal as `status` reports it (AutoNAT's verdict, relays, hole punching, UPnP).
    const nat = await page.evaluate<string>(`document.getElementById("nat").textContent`);
    assertMatch(nat, /^reachability (public|private|unknown);.*hole punching on .*; UPnP \w+/);
    const expectedToml = `bootstrap_peers = ["${ANNOUNCED}/p2p/${leecher.peerId}"]`;
    assertEquals(
      await page.evaluate(`document.getElementById("share-state").textContent`),
      "shareable",
    );
    assertEquals(
      await page.evaluate(`document.getElementById("share-toml").textContent`),
      expectedToml,
    );
    assertEquals(
      await page.evaluate(`document.getElementById("share-scheme").textContent`),
      `(bootstrap-peers '("${ANNOUNCED}/p2p/${leecher.peerId}"))`,
    );
    await page.waitFor(
      `[...document.querySelectorAll("#peer-rows tr")].some((tr) =>
       tr.querySelector("code")?.title === ${JSON.stringify(seeder.peerId)} &&
       tr.lastElementChild.textContent === "connected")`,
      { what: "the seeder listed as a connected peer" },
    );

    // A real substitution; the page must show it start and advance.
    await using agent = helperAgent("substitute", leecher.daemon, leecherStore);
    const outcome = agent.substitute(item.storePath, item.storePath, 120_000);
    const first = await page.waitFor<TransferRow>(
      `(() => { const r = ${TRANSFER_ROW}; return r && r.state === "active" && r.value > 0 ? r : null; })()`,
      { what: "an active transfer with some bytes", timeoutMs: 60_000, intervalMs: 50 },
    );
    assertEquals(first.max, item.narSize, "the progress bar's maximum is the NarSize");
    const later = await page.waitFor<TransferRow>(
      `(() => { const r = ${TRANSFER_ROW}; return r && r.value > ${first.value} ? r : null; })()`,
      {
        what: `the transfer to advance beyond ${first.value} bytes`,
        timeoutMs: 30_000,
        intervalMs: 50,
      },
    );
    assertEquals(
      later.state,
      "active",
      `it advanced while still running: ${JSON.stringify(later)}`,
    );
    assertMatch(later.figures, /\/s$/, "an active transfer shows its rate");
    await Deno.writeFile(`${shots}/dashboard.png`, await page.screenshot());

    const result = await outcome;
    assertEquals(result.status, `success ${item.narHash} ${item.narSize}`);
    await assertRestored(item.storePath, item.narHash);
    const done = await page.waitFor<TransferRow>(
      `(() => { const r = ${TRANSFER_ROW}; return r && r.state === "done" ? r : null; })()`,
      { what: "the transfer to be shown done", timeoutMs: 15_000 },
    );
    assertEquals(done.value, item.narSize);
    assertMatch(done.split, new RegExp(`peers ${NAR_MIB}\\.0 MiB`), "every byte came from peers");
    assertMatch(done.split, /HTTP 0 B/);
    const peerSplit = await page.evaluate<string[]>(
      `[...document.querySelectorAll("#transfer-list li.transfer .t-peers code")].map((c) => c.title)`,
    );
    assertEquals(peerSplit, [seeder.peerId], "the per-peer split names the seeder");
    await page.waitFor(
      `[...document.querySelectorAll("#event-list .e-type")].some((e) => e.textContent === "transfer:done")`,
      { what: "transfer:done in the recent events" },
    );
    await page.waitFor(
      `document.getElementById("seed-rows").textContent.includes(${
        JSON.stringify(item.storePath)
      })`,
      { what: "the substituted item listed as a seed (auto_seed)", timeoutMs: 30_000 },
    );

    // The copy button, from the keyboard: focus it, press Enter, read the clipboard.
    await page.evaluate(`document.getElementById("copy-toml").focus()`);
    assertEquals(await page.evaluate(`document.activeElement.id`), "copy-toml");
    await page.press("Enter");
    await page.waitFor(`document.getElementById("copy-status").textContent.startsWith("Copied")`, {
      what: "the copy confirmation",
    });
    assertEquals(await page.evaluate(`navigator.clipboard.readText()`), expectedToml);
    await page.evaluate(`document.getElementById("copy-scheme").click()`);
    await page.waitFor(
      `navigator.clipboard.readText().then((t) => t.startsWith("(bootstrap-peers"))`,
      { what: "the Scheme field on the clipboard" },
    );

    await page.send("Emulation.setEmulatedMedia", {
      features: [{ name: "prefers-color-scheme", value: "dark" }],
    });
    await page.waitFor(
      `getComputedStyle(document.body).backgroundColor === "rgb(18, 22, 20)"`,
      { what: "the dark theme" },
    );
    const dark = await page.screenshot();
    assertGreater(dark.length, 10_000);
    await Deno.writeFile(`${shots}/dashboard-dark.png`, dark);

    // Nothing went wrong in the page: no exception, no CSP violation, no failed load.
    assertEquals(page.errors, [], "page errors");
    assert(
      !leecher.daemon.log.some((l) => /warn: .*dashboard/.test(l)),
      leecher.daemon.log.join("\n"),
    );
  },
);
