// The core suites in headless Chromium: conformance, gradcheck, the PyTorch fixtures and the
// overfit test — the same test files as in Node, bundled by esbuild with node:test, node:assert,
// node:fs and the Node entry's backends swapped for browser stand-ins (test/browser/) — run in a
// Worker of a cross-origin-isolated page, so the wasm backend runs there with its threads.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchChromium, NO_CHROMIUM, ROOT } from './helpers';

interface Result {
  name: string;
  ok: boolean;
  skipped: boolean;
  ms: number;
  error?: string;
}

const TEST = join(ROOT, 'test');
const SHIMS: Record<string, string> = {
  'node:test': join(TEST, 'browser', 'node-test.ts'),
  'node:assert/strict': join(TEST, 'browser', 'assert.ts'),
  'node:fs': join(TEST, 'browser', 'fs.ts'),
  'node:path': join(TEST, 'browser', 'path.ts'),
  'node:child_process': join(TEST, 'browser', 'child-process.ts'),
};
/** Repository modules swapped by their path (the Node entry's backends, file loading). */
const MODULE_SHIMS: [RegExp, string][] = [
  [/src\/backend\/node$/, join(TEST, 'browser', 'backends.ts')],
  [/src\/io\/load-save$/, join(TEST, 'browser', 'load-save.ts')],
];
/** The repository files the suites read, handed to the page (paths as the bundle sees them: /repo/…). */
const FILES = [
  ...readdirSync(join(TEST, 'fixtures')).map((f) => join(TEST, 'fixtures', f)),
  ...readdirSync(join(ROOT, 'web', 'data', 'fashion-mnist')).map((f) => join(ROOT, 'web', 'data', 'fashion-mnist', f)),
];

async function bundle(): Promise<string> {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const built = await esbuild.build({
    entryPoints: [join(TEST, 'browser', 'suites.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
    define: { __dirname: JSON.stringify('/repo/dist/test') }, // helpers.ts: ROOT = /repo
    external: ['playwright-core'], // helpers.ts's launchChromium, never called in the page
    plugins: [
      {
        name: 'browser-stand-ins',
        setup(build) {
          build.onResolve({ filter: /^node:/ }, (args) => {
            const path = SHIMS[args.path];
            return path ? { path } : { errors: [{ text: `no browser stand-in for ${args.path} (${args.importer})` }] };
          });
          build.onResolve({ filter: /\/(backend\/node|io\/load-save)$/ }, (args) => {
            const full = join(args.resolveDir, args.path);
            const hit = MODULE_SHIMS.find(([re]) => re.test(full));
            return hit ? { path: hit[1] } : undefined;
          });
        },
      },
    ],
  });
  return built.outputFiles[0].text;
}

const PAGE = `<!doctype html><title>browser suites</title><script>
globalThis.events = [];
const worker = new Worker('/loader.js');
worker.onmessage = (e) => globalThis.events.push(e.data);
worker.onerror = (e) => globalThis.events.push({ kind: 'error', message: e.message });
</script>`;
// the worker fetches the files, hands them to the bundle's node:fs, then runs the suites
const LOADER = `(async () => {
  const list = await (await fetch('/files.json')).json();
  globalThis.__FILES__ = new Map();
  for (const path of list) {
    const bytes = new Uint8Array(await (await fetch('/files/' + path)).arrayBuffer());
    globalThis.__FILES__.set('/repo/' + path, bytes);
  }
  importScripts('/suites.js');
})().catch((e) => postMessage({ kind: 'error', message: String(e && e.stack || e) }));`;

describe('the core suites in headless Chromium (wasm with threads, reference)', { skip: NO_CHROMIUM }, () => {
  let server: Server;
  let base = '';
  before(async () => {
    const code = await bundle();
    const rel = FILES.map((f) => relative(ROOT, f));
    const routes = new Map<string, [string, string | Buffer]>([
      ['/', ['text/html', PAGE]],
      ['/loader.js', ['text/javascript', LOADER]],
      ['/suites.js', ['text/javascript', code]],
      ['/files.json', ['application/json', JSON.stringify(rel)]],
      ...rel.map((r): [string, [string, Buffer]] => [
        `/files/${r}`,
        ['application/octet-stream', readFileSync(join(ROOT, r))],
      ]),
    ]);
    server = createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      // cross-origin isolation: what shared wasm memory (threads) needs, as `resnext serve` sends
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': route[0] }).end(route[1]);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  it("conformance, gradcheck, PyTorch fixtures and overfit pass on the browser entry's backends", {
    timeout: 900_000,
  }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(base);
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { events: { kind: string }[] }).events.some(
            (e) => e.kind === 'done' || e.kind === 'error',
          ),
        undefined,
        { timeout: 880_000, polling: 1000 },
      );
      const events = (await page.evaluate(() => (globalThis as unknown as { events: unknown[] }).events)) as (
        | ({ kind: 'result' } & Result)
        | { kind: 'wasm'; threads: number; threadsAvailable: boolean; reason: string }
        | { kind: 'done'; count: number }
        | { kind: 'error'; message: string }
      )[];
      assert.deepEqual(errors, []);
      const failure = events.find((e) => e.kind === 'error');
      assert.equal(failure, undefined, failure && 'message' in failure ? failure.message : '');
      const wasm = events.find((e) => e.kind === 'wasm');
      assert.ok(wasm && wasm.kind === 'wasm');
      assert.ok(wasm.threadsAvailable, `wasm threads in the isolated page's worker: ${wasm.reason}`);
      assert.ok(wasm.threads >= 1);
      const results = events.filter((e): e is { kind: 'result' } & Result => e.kind === 'result');
      const failed = results.filter((r) => !r.ok);
      assert.deepEqual(
        failed.map((r) => `${r.name}: ${r.error}`),
        [],
      );
      const ran = results.filter((r) => !r.skipped).map((r) => r.name);
      assert.ok(ran.length >= 60, `${ran.length} tests ran`);
      // every suite ran on wasm: kernels, fixtures (train and eval), overfit
      for (const must of [
        /conformance: wasm backend/,
        /gradcheck/,
        /PyTorch fixture small_tutorial on the wasm backend › train mode/,
        /PyTorch fixture small_resnext on the wasm backend › eval mode/,
        /overfits 64 images to 100% training accuracy on the wasm backend/,
      ])
        assert.ok(
          ran.some((n) => must.test(n)),
          `a test matching ${must} ran (ran: ${ran.length})`,
        );
    } finally {
      await browser.close();
    }
  });
});
