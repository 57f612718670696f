import { assertEquals } from "@std/assert";
import { daemonCandidates, SERVICE_CONFIG, SERVICE_SOCKET, socketIsExplicit } from "./_locate.ts";

const noEnv = { get: () => undefined };

Deno.test("daemonCandidates: the user's socket, then the service's", () => {
  assertEquals(
    daemonCandidates({ explicit: false, userSocket: "/h/.cache/guix-p2p/control.sock" }),
    [
      { socket: "/h/.cache/guix-p2p/control.sock", origin: "user" },
      { socket: SERVICE_SOCKET, origin: "service", configFile: SERVICE_CONFIG },
    ],
  );
  // Named explicitly: that socket only.
  assertEquals(daemonCandidates({ explicit: true, userSocket: "/x.sock", userConfigFile: "/c" }), [
    { socket: "/x.sock", origin: "explicit", configFile: "/c" },
  ]);
  // The same socket is not tried twice.
  assertEquals(daemonCandidates({ explicit: false, userSocket: SERVICE_SOCKET }).length, 1);
});

Deno.test("socketIsExplicit: flags, environment and config keys name the daemon", () => {
  const base = { overrides: [], configFlag: undefined, env: noEnv, fileText: undefined };
  assertEquals(socketIsExplicit(base), false);
  assertEquals(socketIsExplicit({ ...base, configFlag: "/etc/x.toml" }), true);
  assertEquals(
    socketIsExplicit({
      ...base,
      overrides: [{ key: "socket_path", value: "/s", flag: "--socket" }],
    }),
    true,
  );
  assertEquals(
    socketIsExplicit({
      ...base,
      overrides: [{ key: "policy", value: "p2p-only", flag: "--policy" }],
    }),
    false,
  );
  assertEquals(
    socketIsExplicit({
      ...base,
      env: { get: (n) => (n === "GUIX_P2P_SOCKET" ? "/s" : undefined) },
    }),
    true,
  );
  assertEquals(socketIsExplicit({ ...base, fileText: 'policy = "p2p-only"\n' }), false);
  assertEquals(socketIsExplicit({ ...base, fileText: 'cache_dir = "/var/c"\n' }), true);
  assertEquals(socketIsExplicit({ ...base, fileText: '  socket_path = "/s"\n' }), true);
});
