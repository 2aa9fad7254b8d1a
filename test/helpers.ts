// Test helpers: closeness checks, finite-difference gradcheck, fixtures, and running the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../src/backend/node'; // the Node entry's backends, as the package and the CLI get them
import { noGrad } from '../src/autograd/engine';
import { tensor, randn } from '../src/tensor/create';
import * as F from '../src/tensor/ops';
import { Generator } from '../src/tensor/random';
import type { Tensor } from '../src/tensor/tensor';

/** Repository root (tests run from dist/test). */
export const ROOT = join(__dirname, '..', '..');
/** Committed fixtures written by scripts/make_fixtures.py. */
export const FIXTURES = join(ROOT, 'test', 'fixtures');
/** The golden summary: a committed copy of ../shared/spec/resnext50-summary-batch2.golden.txt. */
export const GOLDEN = join(FIXTURES, 'resnext50-summary-batch2.golden.txt');
/** The spec's own golden file (present beside the checkout in CI and in the team's workspace). */
export const SPEC_GOLDEN = join(ROOT, '..', 'shared', 'spec', 'resnext50-summary-batch2.golden.txt');

/** max|a−b| ≤ rtol·max|b| + atol: a relative check on the tensor's scale. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  what: string,
  atol = 0,
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let maxDiff = 0,
    scale = 0,
    at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxDiff)) {
      maxDiff = d;
      at = i;
    }
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.ok(
    maxDiff <= rtol * scale + atol,
    `${what}: max |diff| ${maxDiff} at ${at} (got ${actual[at]}, want ${expected[at]}) exceeds ${rtol} × scale ${scale} + ${atol}`,
  );
}

/**
 * Finite-difference gradcheck in float64: compares backward() of L = Σ f(inputs)·R (R random)
 * with central differences on up to `samples` elements of every input.
 */
export function gradcheck(
  what: string,
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: { samples?: number; h?: number; rtol?: number; atol?: number } = {},
): void {
  const samples = opts.samples ?? 40,
    h = opts.h ?? 1e-6,
    rtol = opts.rtol ?? 1e-5,
    atol = opts.atol ?? 1e-6;
  const gen = new Generator(7);
  const xs = inputs.map((x) => tensor(x.toArray(), x.shape, { dtype: 'float64', requiresGrad: true }));
  const out0 = f(...xs);
  const r = randn(out0.shape, { dtype: 'float64', generator: gen });
  const loss = (ts: Tensor[]) => F.sum(F.mul(f(...ts), r));
  loss(xs).backward();
  xs.forEach((x, i) => {
    assert.ok(x.grad, `${what}: input ${i} got no gradient`);
    const analytic = x.grad!.toArray();
    const base = x.toArray();
    const picks =
      base.length <= samples ? [...base.keys()] : Array.from({ length: samples }, () => gen.randint(base.length));
    for (const j of picks) {
      const at = (delta: number) =>
        noGrad(() => {
          const v = Float64Array.from(base);
          v[j] += delta;
          const ts = xs.map((t, k) => (k === i ? tensor(v, t.shape, { dtype: 'float64' }) : t.detach()));
          return loss(ts).item();
        });
      const numeric = (at(h) - at(-h)) / (2 * h);
      const diff = Math.abs(numeric - analytic[j]);
      assert.ok(
        diff <= atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic[j])),
        `${what}: d/d input${i}[${j}] analytic ${analytic[j]} vs numeric ${numeric}`,
      );
    }
  });
}

/** Cosine similarity of two equally long arrays. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return dot / Math.sqrt(aa * bb);
}

/** Runs the CLI; returns exit code and output (and with `measureRss`, the process's peak resident set in MiB). */
export function runCli(
  args: string[],
  opts: { measureRss?: boolean; env?: NodeJS.ProcessEnv } = {},
): { status: number; stdout: string; stderr: string; maxRssMiB: number } {
  const preload = opts.measureRss ? ['-r', join(__dirname, 'rss-preload.js')] : [];
  const res = spawnSync(process.execPath, [...preload, join(ROOT, 'bin', 'resnext.js'), ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    env: opts.env ?? process.env,
  });
  const m = /\nmax-rss-kb (\d+)\n$/.exec(res.stderr ?? '');
  const stderr = m ? res.stderr.slice(0, m.index) : res.stderr;
  return { status: res.status ?? -1, stdout: res.stdout, stderr, maxRssMiB: m ? Number(m[1]) / 1024 : NaN };
}

/** Collapses runs of spaces and strips trailing space and blank lines (the golden file's form). */
export function collapse(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+$/, '').replace(/ +/g, ' '))
    .filter((l) => l !== '')
    .join('\n');
}

/** The PyTorch statistics written by scripts/make_fixtures.py. */
export function modelStatsFixture(): {
  models: Record<string, { params: number; multAddsPerImage: number }>;
  summaries: Record<
    string,
    { inputSize: number[]; mult_adds: number; fwd_bwd_bytes: number; param_bytes: number; params: number }
  >;
} {
  return JSON.parse(readFileSync(join(FIXTURES, 'model-stats.json'), 'utf8'));
}

/** Debian's chromium (installed by .ci/run); playwright-core drives it, no browser is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';
/** Why the browser tests are skipped on this machine, or false. */
export const NO_CHROMIUM = !existsSync(CHROMIUM) && `${CHROMIUM} is not installed (.ci/run installs Debian's chromium)`;

/** Headless Chromium through playwright-core (loaded here, so only the browser tests pay for it). */
export async function launchChromium(): Promise<import('playwright-core').Browser> {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}
