// The package as a user gets it: `npm pack`, installed into a fresh project, where the examples
// (importing 'resnext-ts') type-check with `strict` and without skipLibCheck, a misspelt model name
// does not compile, `import`/`require` load no native code, and the browser entry — bundled with
// esbuild for the browser platform — runs in headless Chromium with the same numbers as Node.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertClose, collapse, GOLDEN, launchChromium, NO_CHROMIUM, ROOT } from './helpers';

const npm = (args: string[], cwd: string) => spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 300_000 });
const tsc = (cwd: string) =>
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cwd], {
    encoding: 'utf8',
    timeout: 300_000,
  });

describe('the packed package in a fresh TypeScript project', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-pkg-'));
  const project = join(dir, 'consumer');
  it('npm pack and install the tarball', { timeout: 300_000 }, () => {
    const pack = npm(['pack', '--ignore-scripts', '--pack-destination', dir], ROOT); // dist/ is built by npm test
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const install = npm(
      ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)],
      project,
    );
    assert.equal(install.status, 0, install.stderr);
  });
  it("the examples type-check against 'resnext-ts' with strict and no skipLibCheck", { timeout: 300_000 }, () => {
    for (const f of readdirSync(join(ROOT, 'examples')).filter((n) => n.endsWith('.ts'))) {
      writeFileSync(
        join(project, f),
        readFileSync(join(ROOT, 'examples', f), 'utf8').replace("from '../src/index'", "from 'resnext-ts'"),
      );
    }
    const config = {
      compilerOptions: { strict: true, noEmit: true, module: 'commonjs', target: 'es2022', skipLibCheck: false },
      include: ['*.ts'],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config));
    const r = tsc(project);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
  it("the browser entry's types: a bundler project resolving the 'browser' condition type-checks without Node's types", {
    timeout: 300_000,
  }, () => {
    const dir = join(project, 'browser-types');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'app.ts'),
      [
        "import { createModel, parseWeights, serializeSafetensors, summary, type ModelName } from 'resnext-ts';",
        "const name: ModelName = 'resnext_tiny';",
        'const model = createModel(name, { numClasses: 10 });',
        'const bytes: Uint8Array = serializeSafetensors(model.stateDict());',
        "model.loadStateDict(parseWeights(bytes, 'model.safetensors'));",
        "export const table: string = summary(createModel('resnext50'), [2, 3, 224, 224]).toString();",
        '',
      ].join('\n'),
    );
    const compilerOptions = {
      strict: true,
      noEmit: true,
      module: 'esnext',
      moduleResolution: 'bundler',
      customConditions: ['browser'],
      target: 'es2022',
      lib: ['es2022', 'dom'],
      types: [],
      skipLibCheck: false,
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }));
    const r = tsc(dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
  it('a misspelt model name is a compile error for the user too', { timeout: 300_000 }, () => {
    writeFileSync(
      join(project, 'typo.ts'),
      "import { createModel } from 'resnext-ts';\ncreateModel('resnext_smal');\n",
    );
    const r = tsc(project);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /typo\.ts\(2,13\): error TS2345: Argument of type '"resnext_smal"' is not assignable/);
  });

  // what Node gives for test/package/app.mjs: the reference for the browser run below
  let nodeResult: { backend: string; table: string; shape: number[]; logits: number[] } | null = null;
  it('Node: import and require load no native code; the summary and a forward pass run (ESM)', {
    timeout: 300_000,
  }, () => {
    copyFileSync(join(ROOT, 'test', 'package', 'app.mjs'), join(project, 'app.mjs'));
    // every native module Node loads goes through process.dlopen: record the calls
    const probe = (load: string) => `const seen = []; const dlopen = process.dlopen;
      process.dlopen = (m, f, ...r) => { seen.push(f); return dlopen.call(process, m, f, ...r); };
      ${load}; const atImport = [...seen];`;
    const esm = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `${probe("await import('resnext-ts')")}
      const { run } = await import('./app.mjs');
      console.log(JSON.stringify({ atImport, result: run(), afterRun: seen }));`,
      ],
      { cwd: project, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(esm.status, 0, esm.stderr);
    const out = JSON.parse(esm.stdout);
    assert.deepEqual(out.atImport, [], 'import loads no native module');
    assert.match(out.result.table, /Total params: 25,028,904/);
    assert.equal(
      collapse(out.result.table),
      collapse(readFileSync(GOLDEN, 'utf8')),
      'the golden summary (runs of spaces collapsed)',
    );
    if (out.result.backend === 'native')
      assert.ok(
        out.afterRun.some((f: string) => f.endsWith('resnext_native.node')),
        'the addon loads with the first tensor',
      );
    nodeResult = out.result;
    const cjs = spawnSync(
      process.execPath,
      ['-e', `${probe("require('resnext-ts')")} console.log(JSON.stringify(atImport));`],
      { cwd: project, encoding: 'utf8' },
    );
    assert.equal(cjs.status, 0, cjs.stderr);
    assert.deepEqual(JSON.parse(cjs.stdout), [], 'require loads no native module');
  });
  it('browser: the browser entry bundles for the browser platform and runs in headless Chromium as in Node', {
    timeout: 300_000,
    skip: NO_CHROMIUM,
  }, async () => {
    assert.ok(nodeResult, 'the Node run above passed');
    writeFileSync(join(project, 'page.mjs'), "import { run } from './app.mjs';\nglobalThis.result = run();\n");
    // eslint-style require of the repository's own esbuild: the consumer project has none
    const esbuild = require(join(ROOT, 'node_modules', 'esbuild')) as typeof import('esbuild');
    const built = await esbuild.build({
      entryPoints: [join(project, 'page.mjs')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: project,
    });
    const inputs = Object.keys(built.metafile.inputs);
    assert.ok(
      inputs.some((f) => f.includes('resnext-ts/dist/esm/browser.mjs')),
      `the browser condition picks the browser entry: ${inputs.filter((f) => f.includes('resnext-ts')).join(', ')}`,
    );
    assert.deepEqual(
      inputs.filter((f) => f.endsWith('.node') || f.startsWith('node:')),
      [],
      'no native module or Node built-in is bundled',
    );
    const code = built.outputFiles[0].text;
    assert.doesNotMatch(code, /\bfrom ["']node:|require\(["']node:/, 'no node: import in the bundle');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.setContent('<!doctype html><title>resnext-ts</title>');
      await page.addScriptTag({ type: 'module', content: code });
      await page.waitForFunction(() => (globalThis as { result?: unknown }).result !== undefined, undefined, {
        timeout: 240_000,
      });
      const result = (await page.evaluate(
        () => (globalThis as unknown as { result: unknown }).result,
      )) as typeof nodeResult & object;
      assert.deepEqual(errors, []);
      assert.equal(result.backend, 'wasm', 'the browser default where the module compiles');
      assert.equal(result.table, nodeResult!.table, 'the same summary text as Node');
      assert.deepEqual(result.shape, nodeResult!.shape);
      // Node computes on native (oneDNN) when it loads, the browser on wasm: float32 rounding apart
      assertClose(result.logits, nodeResult!.logits, 1e-4, 'logits, browser vs Node');
    } finally {
      await browser.close();
    }
  });
});
