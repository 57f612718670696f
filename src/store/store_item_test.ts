import { assertEquals, assertThrows } from "@std/assert";
import { StorePathError } from "./errors.ts";
import { storeItemPath } from "./store_item.ts";

const DIRS = ["/gnu/store", "/nix/store"];
const ITEM = "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-2.12";

Deno.test("storeItemPath accepts items of either store", () => {
  assertEquals(storeItemPath(DIRS, `/gnu/store/${ITEM}`).baseName, ITEM);
  assertEquals(storeItemPath(DIRS, `/nix/store/${ITEM}`).storeDir, "/nix/store");
});

Deno.test("storeItemPath refuses what is not exactly a store item, naming the path", () => {
  for (
    const bad of [
      "/gnu/store/..",
      "/gnu/store/.",
      "/gnu/store/.links",
      "/gnu/store/",
      "/gnu/store",
      "/gnu/store/not-a-store-path",
      `/gnu/store/${ITEM}/`,
      `/gnu/store//${ITEM}`,
      `/gnu//store/${ITEM}`,
      `/gnu/store/${ITEM}/bin`,
      `/gnu/store/${ITEM.slice(0, 32)}-.hidden`,
      `/gnu/store/${ITEM.replace("1", "e")}`, // 'e' is not nix32
      `/etc/${ITEM}`,
      `relative/${ITEM}`,
    ]
  ) {
    const e = assertThrows(() => storeItemPath(DIRS, bad), StorePathError);
    assertEquals(e.message.startsWith(`${bad} is not a store item`), true, e.message);
  }
});
