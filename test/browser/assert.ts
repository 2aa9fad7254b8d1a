// node:assert/strict for the browser suite: the calls the suites make, with node's strict semantics
// (Object.is for equal, deep equality by constructor and own enumerable keys, element by element).
function fail(message: string | undefined, fallback: string): never {
  throw new Error(message ?? fallback);
}

function deepEqualValues(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>,
      y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqualValues(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((v) => b.has(v));
  const ka = Object.keys(a),
    kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) => Object.hasOwn(b, k) && deepEqualValues((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

const show = (v: unknown) => {
  try {
    return JSON.stringify(v, (_, x) => (ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x));
  } catch {
    return String(v);
  }
};

function ok(value: unknown, message?: string): asserts value {
  if (!value) fail(message, `expected a truthy value, got ${show(value)}`);
}

const assert = Object.assign(ok, {
  ok,
  equal(actual: unknown, expected: unknown, message?: string): void {
    if (!Object.is(actual, expected)) fail(message, `${show(actual)} !== ${show(expected)}`);
  },
  notEqual(actual: unknown, expected: unknown, message?: string): void {
    if (Object.is(actual, expected)) fail(message, `${show(actual)} === ${show(expected)}`);
  },
  deepEqual(actual: unknown, expected: unknown, message?: string): void {
    if (!deepEqualValues(actual, expected)) fail(message, `not deep-equal:\n${show(actual)}\n${show(expected)}`);
  },
  match(text: string, pattern: RegExp, message?: string): void {
    if (!pattern.test(text)) fail(message, `${show(text)} does not match ${pattern}`);
  },
  throws(f: () => unknown, expected?: RegExp, message?: string): void {
    try {
      f();
    } catch (e) {
      if (expected && !expected.test((e as Error).message))
        fail(message, `the error ${show((e as Error).message)} does not match ${expected}`);
      return;
    }
    fail(message, 'expected an error');
  },
  fail(message?: string): never {
    return fail(message, 'failed');
  },
});
export default assert;
