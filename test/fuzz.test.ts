// Property-based fuzzing (fast-check, fixed seed, bounded runs and time) of the file parsers: valid
// files mutated byte by byte — flips, insertions, deletions, truncations, integer fields overwritten
// with extreme values. Any outcome is fine except an error that is not the parser's own
// FileFormatError (a JavaScript internal such as a RangeError, or a crash).
import '../src/backend/node';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseIdxGz } from '../src/data/idx';
import { FileFormatError } from '../src/io/errors';
import { parseNpy, serializeNpy } from '../src/io/npy';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors';
import { parseTorchCheckpoint } from '../src/io/torch-checkpoint';
import { tensor } from '../src/tensor/create';
import { f32, stateDictPickle, torchLegacy, torchZip, type TensorSpec } from './craft';

/** One edit of a file's bytes. */
type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'u32'; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  // sizes, counts and offsets are little-endian integers: overwrite four bytes with an extreme one
  fc.record({
    kind: fc.constant('u32' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe),
  }),
);

function apply(seed: Uint8Array, edits: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const e of edits) {
    const at = b.length ? e.at % b.length : 0;
    if (e.kind === 'set' && b.length) b[at] = e.value;
    else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
    else if (e.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.count)]);
    else if (e.kind === 'truncate') b = b.subarray(0, at);
    else if (e.kind === 'u32' && at + 4 <= b.length) b.writeUInt32LE(e.value, at);
  }
  return b;
}

const sd: Record<string, TensorSpec> = {
  w: { storage: '0', numel: 6, size: [2, 3], stride: [3, 1] },
  v: { storage: '0', numel: 6, offset: 2, size: [2], stride: [2] },
  b: { storage: '1', numel: 2, size: [2], stride: [1] },
};
const storages = { 0: f32(1, 2, 3, 4, 5, 6), 1: f32(7, 8) };
const idxSeed = (() => {
  const raw = Buffer.alloc(16 + 2 * 28 * 28);
  raw.writeUInt32BE(0x0803, 0);
  raw.writeUInt32BE(2, 4);
  raw.writeUInt32BE(28, 8);
  raw.writeUInt32BE(28, 12);
  return gzipSync(raw);
})();

const parsers: [string, Uint8Array, (b: Uint8Array) => unknown][] = [
  [
    'safetensors',
    serializeSafetensors(
      new Map([
        ['w', tensor([1, 2, 3, 4, 5, 6], [2, 3])],
        ['n', tensor([3], [1], { dtype: 'int64' })],
      ]),
      { format: 'pt' },
    ),
    (b) => parseSafetensors(b, 'fuzz.safetensors'),
  ],
  ['.npy', serializeNpy(tensor([1, 2, 3, 4, 5, 6], [2, 3])), (b) => parseNpy(b, 'fuzz.npy')],
  ['PyTorch zip', torchZip(stateDictPickle(sd, false), storages), (b) => parseTorchCheckpoint(b, 'fuzz.pth')],
  // the archive's CRCs would catch most edits first: mutate the pickle and re-wrap it with correct CRCs
  [
    'PyTorch zip, pickle mutated',
    stateDictPickle(sd, false),
    (b) => parseTorchCheckpoint(torchZip(Buffer.from(b), storages), 'fuzz.pth'),
  ],
  ['PyTorch legacy', torchLegacy(stateDictPickle(sd, true), storages), (b) => parseTorchCheckpoint(b, 'fuzz.pth')],
  ['idx (gzip)', idxSeed, (b) => parseIdxGz(b, [2, 28, 28], 'fuzz.idx.gz')],
];

describe('fuzzing the file parsers (fast-check, seed 20261201)', () => {
  for (const [name, seed, parse] of parsers) {
    it(`${name}: every mutated file parses or fails with the parser's own error naming the file`, {
      timeout: 120_000,
    }, () => {
      parse(seed); // the seed itself is valid
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (edits) => {
          try {
            parse(apply(seed, edits));
          } catch (e) {
            if (!(e instanceof FileFormatError))
              throw new Error(`${name}: ${edits.length} edits gave ${(e as Error).name}: ${(e as Error).message}`);
            assert.ok(e.message.startsWith('fuzz.'), e.message);
          }
        }),
        { seed: 20261201, numRuns: 20000, interruptAfterTimeLimit: 30_000, markInterruptAsFailure: false },
      );
    });
  }
});
