// The package as a TypeScript user gets it: `npm pack`, installed into a fresh project, where the
// examples (importing 'resnext-ts') type-check with `strict` and without skipLibCheck, and a
// misspelt model name does not compile.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const npm = (args: string[], cwd: string) => spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 300_000 });
const tsc = (cwd: string) => spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cwd], { encoding: 'utf8', timeout: 300_000 });

describe('the packed package in a fresh TypeScript project', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-pkg-'));
  const project = join(dir, 'consumer');
  it('npm pack and install the tarball', { timeout: 300_000 }, () => {
    const pack = npm(['pack', '--ignore-scripts', '--pack-destination', dir], ROOT); // dist/ is built by npm test
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const install = npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)], project);
    assert.equal(install.status, 0, install.stderr);
  });
  it("the examples type-check against 'resnext-ts' with strict and no skipLibCheck", { timeout: 300_000 }, () => {
    for (const f of readdirSync(join(ROOT, 'examples')).filter((n) => n.endsWith('.ts'))) {
      writeFileSync(join(project, f), readFileSync(join(ROOT, 'examples', f), 'utf8').replace("from '../src/index'", "from 'resnext-ts'"));
    }
    const config = { compilerOptions: { strict: true, noEmit: true, module: 'commonjs', target: 'es2022', skipLibCheck: false }, include: ['*.ts'] };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config));
    const r = tsc(project);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
  it('a misspelt model name is a compile error for the user too', { timeout: 300_000 }, () => {
    writeFileSync(join(project, 'typo.ts'), "import { createModel } from 'resnext-ts';\ncreateModel('resnext_smal');\n");
    const r = tsc(project);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /typo\.ts\(2,13\): error TS2345: Argument of type '"resnext_smal"' is not assignable/);
  });
});
