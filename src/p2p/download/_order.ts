/**
 * The order a closure is substituted in, as far as its narinfos tell: an item
 * is substituted only after every item it refers to (guix-daemon and Nix both
 * work in dependency order), so what is fetched ahead goes by dependency
 * level — items that refer to nothing in the batch first, then the items
 * that need only those, and so on — and, within a level, smallest first (a
 * small item done early unlocks its dependents soonest). Items without
 * references keep level 0.
 *
 * @example
 * ```ts
 * import { consumptionOrder } from "./_order.ts";
 * const a = { storePath: "/gnu/store/aaaa-a", narSize: 9, references: [] };
 * const b = { storePath: "/gnu/store/bbbb-b", narSize: 1, references: ["aaaa-a"] };
 * consumptionOrder([b, a]); // [a, b]
 * ```
 * @module
 */

/** What the order needs of an item. */
export interface OrderedItem {
  storePath: string;
  narSize: number;
  /** Base names of the items it refers to (itself included or not). */
  references?: readonly string[];
}

/** `items` in the order they are expected to be substituted (a new array). */
export function consumptionOrder<T extends OrderedItem>(items: readonly T[]): T[] {
  const byName = new Map<string, number>();
  items.forEach((it, i) => byName.set(baseName(it.storePath), i));
  const level = new Array<number>(items.length).fill(-1);
  const levelOf = (start: number): number => {
    // Iterative depth-first walk (closures can be deep); a cycle (impossible in a store, but
    // the input is a peer's or server's word) counts as level 0 where it closes.
    const stack: { i: number; next: number; max: number }[] = [{ i: start, next: 0, max: -1 }];
    const onStack = new Set<number>([start]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const refs = items[top.i]!.references ?? [];
      if (top.next < refs.length) {
        const j = byName.get(refs[top.next++]!);
        if (j === undefined || j === top.i || onStack.has(j)) continue;
        if (level[j]! >= 0) top.max = Math.max(top.max, level[j]!);
        else {
          onStack.add(j);
          stack.push({ i: j, next: 0, max: -1 });
        }
        continue;
      }
      level[top.i] = top.max + 1;
      onStack.delete(top.i);
      stack.pop();
      const parent = stack[stack.length - 1];
      if (parent) parent.max = Math.max(parent.max, level[top.i]!);
    }
    return level[start]!;
  };
  items.forEach((_, i) => level[i]! < 0 && levelOf(i));
  return items.map((it, i) => ({ it, i }))
    .sort((a, b) => level[a.i]! - level[b.i]! || a.it.narSize - b.it.narSize || a.i - b.i)
    .map(({ it }) => it);
}

function baseName(storePath: string): string {
  return storePath.slice(storePath.lastIndexOf("/") + 1);
}
