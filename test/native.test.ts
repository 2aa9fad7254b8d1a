// Backend selection: the native addon when built, the reference backend otherwise (with one
// warning), RESNEXT_BACKEND and --backend overrides, and `resnext doctor`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nativeStatus } from '../src/backend/native';
import { FIXTURES, ROOT, runCli } from './helpers';

const native = nativeStatus();
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [join(ROOT, 'bin', 'resnext.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('backend selection', () => {
  it('the native backend is built and active by default', { skip: !native.available && `native backend unavailable: ${native.reason}` }, () => {
    const r = runCli(['doctor', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.activeBackend, 'native');
    assert.match(j.native.oneDNN, /^2\.6\./);
    assert.ok(j.native.threads >= 1);
  });
  it('--backend reference and RESNEXT_BACKEND=reference override it', () => {
    assert.equal(JSON.parse(runCli(['doctor', '--json', '--backend', 'reference']).stdout).activeBackend, 'reference');
    assert.equal(JSON.parse(cli(['doctor', '--json'], { RESNEXT_BACKEND: 'reference' }).stdout).activeBackend, 'reference');
    const bad = runCli(['doctor', '--backend', 'gpu']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown backend 'gpu'; available: reference, meta/);
  });
  it('without the addon: the reference backend, one clear warning, the same numbers', () => {
    const env = { RESNEXT_DISABLE_NATIVE: '1' };
    const d = cli(['doctor'], env);
    assert.match(d.stdout, /active backend: reference/);
    assert.match(d.stdout, /native: unavailable — disabled by RESNEXT_DISABLE_NATIVE/);
    const out = join(require('node:os').tmpdir(), `rx-fallback-${process.pid}.npy`);
    const r = cli(['forward', 'resnext_tiny', '--weights', join(FIXTURES, 'small_tutorial.pth'), '--input', join(FIXTURES, 'small_tutorial.input.npy'), '--output', out, '--eval'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/warning: the native backend is unavailable/g)?.length, 1);
    const forced = cli(['doctor', '--backend', 'native'], env);
    assert.equal(forced.status, 2);
    assert.match(forced.stderr, /the native backend is unavailable: disabled by RESNEXT_DISABLE_NATIVE/);
  });
});
