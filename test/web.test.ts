// The explorer page, driven in headless Chromium (Debian's chromium via playwright-core, no browser
// download) against `resnext serve`: its tables and arithmetic equal the CLI's text, errors show in
// the page, the server stays inside its folder, and screenshots of each section go to docs/.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import type { EvalJson, PredictJson } from '../src/cli/json-output';
import { FASHION_MNIST_DEBIAN_DIR } from '../src/data/fashion-mnist-files';
import { saveNpy } from '../src/io/load-save';
import { randn } from '../src/tensor/create';
import { Generator } from '../src/tensor/random';
import { FIXTURES, launchChromium, NO_CHROMIUM, ROOT, runCli } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'rx-web-'));
/** A JPEG with detail in every channel (decoded by sharp in Node, by Chromium in the page). */
const photo = join(tmp, 'gradient.jpg');
/** A PyTorch zip checkpoint whose pickle calls os.system (Python's pickle.dumps of such a call). */
const evil = join(tmp, 'evil.pth');

describe('the explorer page (resnext serve + headless Chromium)', { skip: NO_CHROMIUM }, () => {
  let server: ChildProcess;
  let base = '';
  type Browser = import('playwright-core').Browser;
  type Page = import('playwright-core').Page;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  /** The Train section's status line, as a page expression. */
  const status = `(document.getElementById('train-status')?.textContent ?? '')`;

  before(async () => {
    const w = 300,
      h = 200,
      rgb = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) rgb.set([(x * 255) / w, (y * 255) / h, ((x ^ y) & 31) * 8], (y * w + x) * 3);
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(photo);
    const pickle = Buffer.from(
      '800263706f7369780a73797374656d0a7100580a0000006563686f2070776e656471018571025271032e',
      'hex',
    );
    writeFileSync(
      evil,
      zipSync({ 'archive/data.pkl': pickle, 'archive/version': new TextEncoder().encode('3\n') }, { level: 0 }),
    );
    server = spawn(process.execPath, [join(ROOT, 'bin', 'resnext.js'), 'serve', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    base = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d) => {
        out += d;
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) resolve(m[0]);
      });
      server.on('exit', (code) => reject(new Error(`resnext serve exited with ${code}`)));
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    server?.kill('SIGINT');
  });

  it("opens on the tutorial ResNeXt-50 at 2x3x224x224: the table is `resnext summary`'s text, with no console error", async () => {
    const cli = runCli(['summary', 'resnext50', '--input', '2,3,224,224']);
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(`${await page.textContent('#summary-table')}\n`, cli.stdout);
    assert.match((await page.textContent('#totals')) ?? '', /Total params25,028,904/);
    assert.deepEqual(errors, []);
    await page.locator('#explore').screenshot({ path: join(ROOT, 'docs', 'explorer-explore.png') });
  });
  it("another model, input, depth and class count: totals and table equal the CLI's for the same options", async () => {
    await page.selectOption('#model', 'resnext50_32x4d');
    await page.fill('#input', '1,3,160,160');
    await page.fill('#depth', '2');
    await page.fill('#classes', '10');
    const cli = runCli(['summary', 'resnext50_32x4d', '--input', '1,3,160,160', '--depth', '2', '--num-classes', '10']);
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(`${await page.textContent('#summary-table')}\n`, cli.stdout);
    assert.ok(await page.isHidden('#explore-error'));
  });
  it('a custom ResNeXt (depth, cardinality, width): the CLI command the page shows prints the same table', async () => {
    await page.selectOption('#model', 'custom');
    await page.selectOption('#custom-depth', '101');
    await page.fill('#custom-groups', '16');
    await page.fill('#custom-width', '8');
    await page.fill('#classes', '');
    const command = (await page.textContent('#cli-command')) ?? '';
    assert.equal(command, 'resnext summary resnext101_16x8d --input 1,3,160,160 --depth 2');
    const cli = runCli(command.split(' ').slice(1));
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(`${await page.textContent('#summary-table')}\n`, cli.stdout);
    assert.match(cli.stdout, /Total params: 46,845,736/);
  });
  it('a bad input shape is explained in the page, in one sentence', async () => {
    await page.fill('#input', '1,3,160');
    assert.match((await page.textContent('#explore-error')) ?? '', /^Input must be four positive integers N,C,H,W/);
    await page.fill('#input', '2,3,224,224');
    await page.selectOption('#model', 'resnext50');
    await page.fill('#depth', '3');
    await page.fill('#classes', '');
  });
  it("grouped convolution: the arithmetic is `resnext conv-params`'s text; an invalid split shows the CLI's message", async () => {
    const cli = runCli(['conv-params', '64', '128', '3', '--groups', '32']);
    assert.equal(await page.textContent('#conv-arithmetic'), cli.stdout);
    assert.equal(await page.locator('#group-drawing svg rect').count(), 64, '32 groups, in and out');
    await page.locator('#grouped').screenshot({ path: join(ROOT, 'docs', 'explorer-grouped.png') });
    await page.fill('#conv-groups', '3');
    const bad = runCli(['conv-params', '64', '128', '3', '--groups', '3']);
    assert.equal(bad.status, 2);
    assert.equal(`resnext conv-params: ${await page.textContent('#grouped-error')}\n`, bad.stderr);
    await page.fill('#conv-groups', '32');
    assert.deepEqual(errors, []);
  });
  it("the paper's tables: the text `resnext paper` prints", async () => {
    const cli = runCli(['paper']);
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(await page.textContent('#paper-tables'), cli.stdout);
    await page.locator('#paper').screenshot({ path: join(ROOT, 'docs', 'explorer-paper.png') });
  });
  it('Predict: a PyTorch-written checkpoint and two images give the top-5 of `resnext predict` (probabilities to 1e-4)', async () => {
    const images = [join(FIXTURES, 'pattern_320x256.png'), join(FIXTURES, 'pattern_400x300.png'), photo];
    const weights = join(FIXTURES, 'small_tutorial.pth');
    const cli = runCli(['predict', 'resnext_tiny', '--weights', weights, ...images, '--json']);
    assert.equal(cli.status, 0, cli.stderr);
    const want = JSON.parse(cli.stdout) as PredictJson;
    await page.setInputFiles('#predict-weights', weights);
    await page.setInputFiles('#predict-images', images);
    await page.click('#predict-run');
    await page.waitForSelector('#predict-results[data-done="true"]', { timeout: 120_000 });
    assert.match(
      (await page.textContent('#predict-status')) ?? '',
      /3 image\(s\) classified as resnext_tiny on the wasm backend/,
    );
    const got = await page.$$eval('#predict-results figure', (figs) =>
      figs.map((f) => ({
        image: f.querySelector('figcaption')?.textContent ?? '',
        top: [...f.querySelectorAll('tbody tr')].map((r) => ({
          index: Number(r.cells[3].textContent),
          label: r.cells[2].textContent,
          probability: Number(r.getAttribute('data-probability')),
        })),
      })),
    );
    assert.equal(got.length, 3);
    for (const [i, g] of got.entries()) {
      assert.ok(g.image.startsWith(basename(images[i])), g.image);
      assert.deepEqual(
        g.top.map((t) => [t.index, t.label]),
        want[i].top.map((t) => [t.index, t.label]),
        images[i],
      );
      for (const [j, t] of g.top.entries())
        assert.ok(Math.abs(t.probability - want[i].top[j].probability) < 1e-4, `${images[i]} #${j + 1}`);
    }
    assert.deepEqual(errors, []);
    await page.locator('#predict').screenshot({ path: join(ROOT, 'docs', 'explorer-predict.png') });
  });
  it('Predict: an int8 model file runs dequantised, as `resnext predict --precision fp32` runs it', async () => {
    const calibration = join(tmp, 'calibration.npy');
    saveNpy(calibration, randn([2, 3, 224, 224], { generator: new Generator(3) }));
    const q = join(tmp, 'tiny-int8.safetensors');
    const made = runCli([
      'quantize',
      'resnext_tiny',
      '--weights',
      join(FIXTURES, 'small_tutorial.pth'),
      '--calibrate',
      calibration,
      '--out',
      q,
    ]);
    assert.equal(made.status, 0, made.stderr);
    const cli = runCli(['predict', 'resnext_tiny', '--weights', q, photo, '--json', '--precision', 'fp32']);
    assert.equal(cli.status, 0, cli.stderr);
    const want = (JSON.parse(cli.stdout) as PredictJson)[0].top.map((t) => t.index);
    await page.setInputFiles('#predict-weights', q);
    await page.setInputFiles('#predict-images', [photo]);
    await page.click('#predict-run');
    await page.waitForSelector('#predict-results[data-done="true"]', { timeout: 120_000 });
    const got = await page.$$eval('#predict-results figure', (figs) =>
      figs.flatMap((f) => [...f.querySelectorAll('tbody tr')].map((r) => Number(r.cells[3].textContent))),
    );
    assert.deepEqual(got, want);
    assert.deepEqual(errors, []);
  });
  it('Predict: a hostile pickle is refused with the message `resnext predict` gives', async () => {
    const cli = runCli(['predict', 'resnext_tiny', '--weights', evil, photo]);
    assert.equal(cli.status, 2);
    await page.setInputFiles('#predict-weights', evil);
    await page.click('#predict-run');
    await page.waitForSelector('#predict-error:not([hidden])', { timeout: 30_000 });
    const shown = (await page.textContent('#predict-error')) ?? '';
    assert.match(shown, /global 'posix\.system' is not allowed/);
    assert.equal(`resnext predict: ${shown}\n`, cli.stderr.replace(`${tmp}/`, ''));
  });
  it('Train: one epoch on the shipped subset, with pause and resume; the downloaded weights give the same accuracy in `resnext eval`', async () => {
    await page.click('#train-start');
    await page.waitForFunction(`/epoch 1, batch [3-9]/.test(${status})`, null, { timeout: 120_000 });
    await page.click('#train-pause');
    await page.waitForFunction(`${status} === 'Paused.'`);
    const losses = await page.locator('#train-chart path').getAttribute('d');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await page.textContent('#train-status'), 'Paused.');
    assert.equal(await page.locator('#train-chart path').getAttribute('d'), losses, 'no step while paused');
    await page.click('#train-pause');
    await page.waitForSelector('#train-table[data-done="true"]', { timeout: 600_000 });
    const top1 = Number(await page.getAttribute('#train-table tbody tr', 'data-test-top1'));
    assert.ok(top1 > 0.5, `test accuracy ${top1} after one epoch (chance: 0.1)`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
    const file = join(tmp, 'page.safetensors');
    await download.saveAs(file);
    const command = (await page.textContent('#train-command')) ?? '';
    assert.match(
      command,
      /^resnext --backend wasm train resnext_small --data fashion-mnist:web\/data\/fashion-mnist --epochs 1 --batch-size 32 --lr 0.1 --seed 0 --no-augment$/,
    );
    const ev = runCli([
      '--backend',
      'wasm',
      'eval',
      'resnext_small',
      '--weights',
      file,
      '--data',
      `fashion-mnist:${join(ROOT, 'web', 'data', 'fashion-mnist')}`,
      '--json',
    ]);
    assert.equal(ev.status, 0, ev.stderr);
    const json = JSON.parse(ev.stdout) as EvalJson;
    assert.equal(json.images, 500);
    assert.equal(json.top1, top1);
    assert.deepEqual(errors, []);
    await page.locator('#train').screenshot({ path: join(ROOT, 'docs', 'explorer-train.png') });
    console.log(
      `page: one epoch on 2,000 images, test accuracy ${(100 * top1).toFixed(2)}% on 500; resnext eval: ${(100 * json.top1).toFixed(2)}%`,
    );
  });
  it('files dropped on a section land in its inputs (a checkpoint as weights, images as images; idx files as your files)', async () => {
    const drop = async (section: string, names: string[]) => {
      const transfer = await page.evaluateHandle(
        `(() => { const t = new DataTransfer(); for (const n of ${JSON.stringify(names)}) t.items.add(new File([new Uint8Array(8)], n)); return t; })()`,
      );
      await page.dispatchEvent(section, 'drop', { dataTransfer: transfer });
    };
    const count = (id: string) => page.evaluate(`document.getElementById('${id}').files.length`);
    await drop('#predict', ['w.safetensors', 'a.png', 'b.jpg']);
    assert.equal(await page.evaluate(`document.getElementById('predict-weights').files[0].name`), 'w.safetensors');
    assert.equal(await count('predict-images'), 2);
    await drop('#train', ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
    assert.equal(await count('train-files'), 2);
    assert.ok(await page.isChecked('#train-source-files'));
    await page.check('#train-source-subset');
  });
  it('Train: the four official files given in the page are read (60,000 / 10,000 images)', async () => {
    await page.check('#train-source-files');
    await page.setInputFiles(
      '#train-files',
      ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map(
        (f) => join(FASHION_MNIST_DEBIAN_DIR, `${f}.gz`),
      ),
    );
    await page.click('#train-start');
    await page.waitForFunction(`/60,000 training and 10,000 test images \\(your files\\)/.test(${status})`, null, {
      timeout: 120_000,
    });
    await page.click('#train-stop');
    await page.check('#train-source-subset');
    assert.deepEqual(errors, []);
  });
  it('readable at phone width (390 px): no horizontal scroll of the page itself', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = (await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    )) as number;
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ROOT, 'docs', 'explorer-phone.png') });
  });
  it('the server: isolation headers, 404 outside its folder and for unknown paths, 405 for other methods', async () => {
    const head = await fetch(base);
    assert.equal(head.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(head.headers.get('cross-origin-embedder-policy'), 'require-corp');
    for (const path of ['nope.html', '..%2f..%2fpackage.json', '%2e%2e/%2e%2e/package.json', '%00']) {
      assert.equal((await fetch(base + path)).status, 404, path);
    }
    assert.equal((await fetch(base, { method: 'POST' })).status, 405);
  });
});
