// The safetensors reader: round trip of a fixture, and malformed headers rejected with the file named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseSafetensors } from '../src/io/safetensors';
import { FIXTURES } from './helpers';

function file(header: object, data: Buffer): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  return Buffer.concat([len, head, data]);
}

describe('safetensors reader', () => {
  it('reads PyTorch-written F32 and I64 tensors', () => {
    const t = parseSafetensors(readFileSync(join(FIXTURES, 'small_tutorial.safetensors')));
    assert.deepEqual(t.get('input')!.shape, [2, 3, 64, 64]);
    assert.deepEqual(Array.from(t.get('target')!.toArray()), [1, 3]);
    assert.equal(t.get('state.conv1.1.num_batches_tracked')!.item(), 3);
  });
  it('reads a hand-made file with metadata', () => {
    const data = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
    const t = parseSafetensors(
      file({ __metadata__: { a: 'b' }, x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }, data),
    );
    assert.deepEqual(Array.from(t.get('x')!.toArray()), [1, 2, 3, 4]);
  });
  const bad: [string, Buffer, RegExp][] = [
    ['truncated', Buffer.alloc(4), /too short/],
    [
      'header longer than the file',
      (() => {
        const b = Buffer.alloc(16);
        b.writeBigUInt64LE(1000n);
        return b;
      })(),
      /header length 1000 \(the file.s first 8 bytes\) exceeds the file size 16/,
    ],
    ['header not JSON', file({}, Buffer.alloc(0)).fill(0x7b, 8), /not valid JSON/],
    [
      'unsupported dtype',
      file({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)),
      /tensor 'x' has unsupported dtype "C64"/,
    ],
    [
      'size lie',
      file({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)),
      /needs 12 bytes but data_offsets span 8/,
    ],
    [
      'offsets past the end',
      file({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)),
      /run past the end of the data \(8 bytes\)/,
    ],
    [
      'overlapping ranges',
      file(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        Buffer.alloc(12),
      ),
      /overlapping data ranges/,
    ],
    [
      'negative shape',
      file({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, Buffer.alloc(0)),
      /invalid shape/,
    ],
  ];
  for (const [what, buf, message] of bad) {
    it(`rejects ${what}`, () =>
      assert.throws(
        () => parseSafetensors(buf, 'w.safetensors'),
        (e: Error) => e.message.startsWith('w.safetensors: ') && message.test(e.message),
      ));
  }
});
