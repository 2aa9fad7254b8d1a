#!/usr/bin/env node
// Writes the Fashion-MNIST subset the explorer page ships (web/data/fashion-mnist/): 2,000 training
// and 500 test images of the official files (Debian's dataset-fashion-mnist), taken at indices
// ⌊i·N/n⌋ as `--limit-train`/`--limit-test` take them, in the official idx format, gzipped. The
// same four file names, so `resnext eval … --data fashion-mnist:web/data/fashion-mnist` reads them.
'use strict';
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { gunzipSync, gzipSync } = require('node:zlib');

const SOURCE = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const OUT = join(__dirname, '..', 'web', 'data', 'fashion-mnist');
const SPLITS = [
  { prefix: 'train', total: 60000, keep: 2000 },
  { prefix: 't10k', total: 10000, keep: 500 },
];

/** An idx header: magic 0x0000080<rank>, then the dimensions, big-endian. */
function header(dims) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(0x0800 + dims.length, 0);
  for (const [i, d] of dims.entries()) h.writeUInt32BE(d, 4 + 4 * i);
  return h;
}

mkdirSync(OUT, { recursive: true });
for (const { prefix, total, keep } of SPLITS) {
  const images = gunzipSync(readFileSync(join(SOURCE, `${prefix}-images-idx3-ubyte.gz`)));
  const labels = gunzipSync(readFileSync(join(SOURCE, `${prefix}-labels-idx1-ubyte.gz`)));
  if (images.readUInt32BE(4) !== total || labels.readUInt32BE(4) !== total)
    throw new Error(`${prefix}: not the official file`);
  const pickedImages = Buffer.alloc(keep * 784),
    pickedLabels = Buffer.alloc(keep);
  for (let i = 0; i < keep; i++) {
    const src = Math.floor((i * total) / keep);
    images.copy(pickedImages, i * 784, 16 + src * 784, 16 + (src + 1) * 784);
    pickedLabels[i] = labels[8 + src];
  }
  const write = (name, dims, data) =>
    writeFileSync(join(OUT, `${name}.gz`), gzipSync(Buffer.concat([header(dims), data]), { level: 9 }));
  write(`${prefix}-images-idx3-ubyte`, [keep, 28, 28], pickedImages);
  write(`${prefix}-labels-idx1-ubyte`, [keep], pickedLabels);
  console.log(`${prefix}: ${keep} of ${total} images`);
}
