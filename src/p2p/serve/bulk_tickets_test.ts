import { assertEquals } from "@std/assert";
import { BulkTickets } from "./bulk_tickets.ts";

Deno.test("a ticket opens one connection, from the address it was issued for, in time", () => {
  let now = 1000;
  const tickets = new BulkTickets<string>({ ttlMs: 100, now: () => now });
  const a = tickets.issue("10.0.0.7", "peer-a");
  assertEquals(a.length, 32);
  assertEquals(tickets.redeem(a, "10.0.0.8"), undefined, "another address");
  assertEquals(tickets.redeem(a, "10.0.0.7"), undefined, "a failed try uses the ticket up");
  const b = tickets.issue("10.0.0.7", "peer-b");
  assertEquals(tickets.redeem(b, "10.0.0.7"), "peer-b");
  assertEquals(tickets.redeem(b, "10.0.0.7"), undefined, "used once");
  const c = tickets.issue("10.0.0.7", "peer-c");
  now += 100;
  assertEquals(tickets.redeem(c, "10.0.0.7"), undefined, "expired");
  assertEquals(tickets.redeem(new Uint8Array(31), "10.0.0.7"), undefined);
});

Deno.test("the book is bounded: the oldest tickets go first", () => {
  const tickets = new BulkTickets<number>({ max: 3 });
  const issued = Array.from({ length: 10 }, (_, i) => tickets.issue("::1", i));
  assertEquals(tickets.size, 3);
  assertEquals(tickets.redeem(issued[0]!, "::1"), undefined);
  assertEquals(tickets.redeem(issued[9]!, "::1"), 9);
});

Deno.test("one peer cannot crowd out the others: a few tickets per peer", () => {
  const tickets = new BulkTickets<string>({ maxPerKey: 2 });
  const other = tickets.issue("10.0.0.1", "honest", "honest");
  const spam = Array.from({ length: 100 }, () => tickets.issue("10.0.0.2", "spam", "spammer"));
  assertEquals(tickets.size, 3);
  assertEquals(tickets.redeem(spam[0]!, "10.0.0.2"), undefined);
  assertEquals(tickets.redeem(spam[99]!, "10.0.0.2"), "spam");
  assertEquals(tickets.redeem(other, "10.0.0.1"), "honest");
});
