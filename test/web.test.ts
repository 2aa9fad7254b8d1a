// The explorer page, driven in headless Chromium (Debian's chromium via playwright-core, no browser
// download) against `resnext serve`: its tables and arithmetic equal the CLI's text, errors show in
// the page, the server stays inside its folder, and screenshots of each section go to docs/.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchChromium, NO_CHROMIUM, ROOT, runCli } from './helpers';

describe('the explorer page (resnext serve + headless Chromium)', { skip: NO_CHROMIUM }, () => {
  let server: ChildProcess;
  let base = '';
  type Browser = import('playwright-core').Browser;
  type Page = import('playwright-core').Page;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
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
