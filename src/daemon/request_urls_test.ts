import { assertEquals } from "@std/assert";
import { requestUrls } from "./request_urls.ts";

const config = {
  substitute_urls: ["https://ci.guix.gnu.org", "file:///srv/cache"],
  nix_upstream_urls: ["https://cache.nixos.org"],
};

Deno.test("requestUrls: client URLs are http(s), file:// only as configured", () => {
  assertEquals(
    requestUrls(
      ["file:///home/eve/cache", "https://mirror.example", "file:///srv/cache/", "ftp://x", "/etc"],
      config,
    ),
    {
      urls: ["https://mirror.example", "file:///srv/cache/"],
      refused: ["file:///home/eve/cache", "ftp://x", "/etc"],
    },
  );
  assertEquals(requestUrls(undefined, config).urls, config.substitute_urls);
  assertEquals(requestUrls([], config).urls, config.substitute_urls);
  assertEquals(requestUrls(["file:///x"], config), { urls: [], refused: ["file:///x"] });
});
