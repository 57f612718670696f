import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { isSeedableName, parseItemList, profileItem, storeRefs } from "./catalog.ts";
import { DirectoryCatalog } from "./deno_catalog.ts";

const H = (c: string) => c.repeat(32);

Deno.test("catalog: what is seedable, what a text refers to", () => {
  assertEquals(isSeedableName(`${H("a")}-hello-2.12`), true);
  assertEquals(isSeedableName(`${H("a")}-hello-2.12.drv`), false);
  assertEquals(isSeedableName(`${H("a")}-x.lock`), false);
  assertEquals(isSeedableName(`${H("e")}-bad`), false, "e is not a nix32 digit");
  assertEquals(isSeedableName(".links"), false);
  const text = `x /s/${H("b")}-glibc/lib y "/s/${H("c")}-z" /t/${H("d")}-other /s/${H("f")}`;
  assertEquals([...storeRefs(text, "/s")].sort(), [H("b"), H("c")]);
  assertEquals(
    parseItemList(`/s/${H("b")}-x\n/s/${H("c")}-y.drv\n/t/${H("d")}-z\n\n/s/${H("b")}-x\n`, "/s"),
    [`/s/${H("b")}-x`],
  );
  assertEquals(profileItem(`/s/${H("b")}-profile/bin/hello`, ["/s"], "p"), `/s/${H("b")}-profile`);
  assertThrows(() => profileItem("/home/a/x", ["/s"], "~/x"), Error, "not an item of /s");
});

Deno.test("DirectoryCatalog: valid entries and closures by reference scan", async () => {
  const s = await Deno.makeTempDir({ prefix: "guix-p2p-catalog-" });
  try {
    const [lib, app, profile, unrelated] = [
      `${s}/${H("b")}-lib`,
      `${s}/${H("c")}-app`,
      `${s}/${H("d")}-profile`,
      `${s}/${H("f")}-unrelated`,
    ];
    await Deno.mkdir(lib);
    await Deno.writeTextFile(`${lib}/libx.so`, "no references\n");
    await Deno.mkdir(`${app}/bin`, { recursive: true });
    // A reference split across the 256 KiB read boundary is still found.
    const pad = "x".repeat(256 * 1024 - 10);
    await Deno.writeFile(
      `${app}/bin/app`,
      new TextEncoder().encode(`${pad}RPATH=${lib}/lib\0`),
    );
    await Deno.mkdir(`${profile}/bin`, { recursive: true });
    await Deno.symlink(`${app}/bin/app`, `${profile}/bin/app`);
    await Deno.writeTextFile(`${profile}/manifest`, `(manifest (version 4) (packages ()))\n`);
    await Deno.writeTextFile(unrelated, "alone\n");
    await Deno.writeTextFile(`${s}/${H("g")}-thing.drv`, `Derive(... ${lib} ...)`);
    await Deno.mkdir(`${s}/.links`);
    const catalog = new DirectoryCatalog(s);
    assertEquals(await catalog.valid(), [lib, app, profile, unrelated]);
    assertEquals((await catalog.closure([profile])).sort(), [lib, app, profile].sort());
    assertEquals(await catalog.closure([unrelated]), [unrelated]);
    await assertRejects(() => catalog.closure([`${s}/${H("h")}-missing`]), Deno.errors.NotFound);
  } finally {
    await Deno.remove(s, { recursive: true });
  }
});
