#!/usr/bin/env node
// Builds the oneDNN addon (native/) during `npm ci`. If it cannot be built (no libdnnl-dev, no
// compiler), installation still succeeds: the library falls back to the reference backend and
// `resnext doctor` says why. Uses npm's bundled node-gyp and the local Node headers (no downloads).
const { spawnSync } = require('node:child_process');
const { existsSync, writeFileSync, mkdirSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const status = join(root, 'native', 'build', 'status.txt');

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp))
    return process.env.npm_config_node_gyp;
  const npmDir = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  return existsSync(npmDir) ? npmDir : null;
}

function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node.h')) ? prefix : null;
}

function fail(reason) {
  mkdirSync(dirname(status), { recursive: true });
  writeFileSync(status, reason);
  process.stderr.write(
    `resnext: the native oneDNN backend was not built (${reason.split('\n')[0]}); using the reference backend. Run 'npx resnext doctor' for details.\n`,
  );
  process.exit(0);
}

if (process.env.RESNEXT_SKIP_NATIVE) fail('RESNEXT_SKIP_NATIVE is set');
if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) fail('oneDNN headers not found: apt-get install -y libdnnl-dev');
const gyp = nodeGyp();
if (!gyp) fail('node-gyp not found (it ships with npm)');
const args = [
  gyp,
  'rebuild',
  '--directory',
  join(root, 'native'),
  `--jobs=${Math.max(1, require('node:os').availableParallelism())}`,
];
const nd = nodeDir();
if (nd) args.push(`--nodedir=${nd}`);
const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
if (r.status !== 0)
  fail(
    `node-gyp failed:\n${(r.stderr || '')
      .split('\n')
      .filter((l) => !l.startsWith('gyp info'))
      .slice(-20)
      .join('\n')}`,
  );
writeFileSync(status, 'built');
