/**
 * The subset of `jsr:@std/assert` the test suite uses, built on `node:assert/strict`.
 *
 * JSR cannot be reached from our build machines (docs/development.md), so
 * `deno.json` maps `@std/assert` to this file. Switching back to the real
 * package is a one-line import-map change: keep to std's names and argument
 * orders here.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(1 + 1, 2);
 * ```
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Error thrown by every assertion in this module. */
export class AssertionError extends Error {
  /** Creates an assertion error with the given message. */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function wrap(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof nodeAssert.AssertionError) throw new AssertionError(e.message);
    throw e;
  }
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = "Assertion failed"): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/** Asserts deep equality of `actual` and `expected`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  wrap(() =>
    msg === undefined
      ? nodeAssert.deepStrictEqual(actual, expected)
      : nodeAssert.deepStrictEqual(actual, expected, msg)
  );
}

/** Asserts deep inequality of `actual` and `expected`. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  wrap(() =>
    msg === undefined
      ? nodeAssert.notDeepStrictEqual(actual, expected)
      : nodeAssert.notDeepStrictEqual(actual, expected, msg)
  );
}

/** Asserts `Object.is(actual, expected)`. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  wrap(() =>
    msg === undefined
      ? nodeAssert.strictEqual(actual, expected)
      : nodeAssert.strictEqual(actual, expected, msg)
  );
}

/** Asserts that `actual` is neither `null` nor `undefined`. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new AssertionError(msg ?? `Expected actual: "${actual}" to not be null or undefined.`);
  }
}

/** Asserts that `actual` contains `expected` as a substring. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(msg ?? `Expected actual: "${actual}" to contain: "${expected}".`);
  }
}

/** Asserts that `actual` matches the regular expression `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  wrap(() =>
    msg === undefined ? nodeAssert.match(actual, expected) : nodeAssert.match(actual, expected, msg)
  );
}

/** Asserts that `actual` is greater than `expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) {
    throw new AssertionError(msg ?? `Expect ${String(actual)} > ${String(expected)}`);
  }
}

/** Asserts that `actual` is less than `expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) {
    throw new AssertionError(msg ?? `Expect ${String(actual)} < ${String(expected)}`);
  }
}

/** Asserts that `actual` is less than or equal to `expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual <= expected)) {
    throw new AssertionError(msg ?? `Expect ${String(actual)} <= ${String(expected)}`);
  }
}

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends abstract new (...args: never[]) => unknown>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T> {
  if (!(actual instanceof expectedType)) {
    throw new AssertionError(msg ?? `Expected object to be an instance of "${expectedType.name}".`);
  }
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function checkError<E extends Error>(
  error: unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  if (!(error instanceof Error)) throw new AssertionError("A non-Error object was thrown.");
  if (ErrorClass && !(error instanceof ErrorClass)) {
    throw new AssertionError(
      `Expected error to be instance of "${ErrorClass.name}", but was "${error.constructor.name}": ${error.message}`,
    );
  }
  if (msgIncludes !== undefined && !error.message.includes(msgIncludes)) {
    throw new AssertionError(
      `Expected error message to include "${msgIncludes}", but got "${error.message}".`,
    );
  }
  return error as E;
}

/** Asserts that `fn` throws (optionally an instance of `ErrorClass` whose message includes `msgIncludes`). */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (e) {
    return checkError(e, ErrorClass, msgIncludes);
  }
  throw new AssertionError("Expected function to throw.");
}

/** Asserts that the promise returned by `fn` rejects (optionally with `ErrorClass` / `msgIncludes`). */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    return checkError(e, ErrorClass, msgIncludes);
  }
  throw new AssertionError("Expected function to reject.");
}

/** Always throws: marks code that must not be reached. */
export function fail(msg?: string): never {
  throw new AssertionError(msg ? `Failed assertion: ${msg}` : "Failed assertion.");
}
