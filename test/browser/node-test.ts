// node:test for the browser suite: describe/it collect tests as node:test does (bodies of describe
// run at once), runAll() runs them in order and reports each; skip and timeout are honoured.
type Body = () => void | Promise<void>;
interface Options {
  skip?: boolean | string;
  timeout?: number;
}
export interface TestResult {
  name: string;
  ok: boolean;
  skipped: boolean;
  ms: number;
  error?: string;
}

const tests: { name: string; body: Body; options: Options }[] = [];
const path: string[] = [];
let skipping: (boolean | string)[] = [];

function split(a: Options | Body, b?: Body): [Options, Body] {
  return typeof a === 'function' ? [{}, a] : [a, b as Body];
}

export function describe(name: string, a: Options | Body, b?: Body): void {
  const [options, body] = split(a, b);
  path.push(name);
  skipping.push(options.skip ?? false);
  try {
    const r = body();
    if (r instanceof Promise) throw new Error(`describe('${name}'): an async body is not supported here`);
  } finally {
    path.pop();
    skipping.pop();
  }
}

export function it(name: string, a: Options | Body, b?: Body): void {
  const [options, body] = split(a, b);
  const skip = skipping.find((s) => s) || options.skip || false;
  tests.push({ name: [...path, name].join(' › '), body, options: { ...options, skip } });
}
export const test = it;

/** Runs every collected test in order; `report` hears each result. */
export async function runAll(report: (r: TestResult) => void): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const t of tests) {
    const start = performance.now();
    let result: TestResult;
    if (t.options.skip) result = { name: t.name, ok: true, skipped: true, ms: 0 };
    else {
      try {
        const limit = t.options.timeout ?? 300_000;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.resolve().then(t.body),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${limit} ms`)), limit);
          }),
        ]).finally(() => clearTimeout(timer));
        result = { name: t.name, ok: true, skipped: false, ms: performance.now() - start };
      } catch (e) {
        const err = e as Error;
        result = {
          name: t.name,
          ok: false,
          skipped: false,
          ms: performance.now() - start,
          error: err.stack ?? String(e),
        };
      }
    }
    results.push(result);
    report(result);
  }
  skipping = [];
  return results;
}
