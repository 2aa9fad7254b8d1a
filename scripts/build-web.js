#!/usr/bin/env node
// The explorer page (web/): type-checked as browser code (web/tsconfig.json, no Node types), bundled
// by esbuild into dist/web/app.js (the page) and worker.js (its workers) with the library's browser
// entry, and copied with its HTML, CSS and the Fashion-MNIST subset (web/data).
// `resnext serve` serves dist/web. A Node built-in reached from the page fails the build.
'use strict';
const { spawnSync } = require('node:child_process');
const { copyFileSync, cpSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const esbuild = require('esbuild');
const { refuseNodeBuiltins } = require('./esbuild-plugins');

const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'dist', 'web');
const tsc = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'web')],
  {
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(1);
mkdirSync(OUT, { recursive: true });
for (const f of ['index.html', 'style.css']) copyFileSync(join(ROOT, 'web', f), join(OUT, f));
cpSync(join(ROOT, 'web', 'data'), join(OUT, 'data'), { recursive: true });
esbuild
  .build({
    entryPoints: [join(ROOT, 'web', 'app.ts'), join(ROOT, 'web', 'worker.ts')],
    outdir: OUT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    plugins: [refuseNodeBuiltins('the page')],
  })
  .catch(() => process.exit(1));
