// Weight and tensor files: PyTorch zip/legacy checkpoints, safetensors, .npy — exact round trips,
// PyTorch's values, and hostile or malformed files rejected by name without running anything.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { unzipSync, zipSync } from 'fflate';
import { spawnSync } from 'node:child_process';
import { parseNpy, serializeNpy } from '../src/io/npy';
import { parseSafetensors, safetensorsMetadata, serializeSafetensors } from '../src/io/safetensors';
import { loadSafetensors, loadWeights } from '../src/io/load-save';
import { parseTorchCheckpoint } from '../src/io/torch-checkpoint';
import { createModel } from '../src/models/registry';
import { tensor } from '../src/tensor/create';
import type { Tensor } from '../src/tensor/tensor';
import { assertClose, FIXTURES, runCli } from './helpers';

const fixture = (name: string) => join(FIXTURES, name);
const sameTensors = (a: Map<string, Tensor>, b: Map<string, Tensor>) => {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of b) {
    assert.deepEqual(a.get(k)!.shape, v.shape, k);
    assert.equal(a.get(k)!.dtype, v.dtype, k);
    assert.deepEqual(Array.from(a.get(k)!.toArray()), Array.from(v.toArray()), k);
  }
};

describe('PyTorch checkpoints', () => {
  const expected = loadSafetensors(fixture('small_tutorial.weights.safetensors'));
  it('zip format (torch.save) equals the same state dict as safetensors', () =>
    sameTensors(loadWeights(fixture('small_tutorial.pth')), expected));
  it('legacy format (_use_new_zipfile_serialization=False)', () =>
    sameTensors(loadWeights(fixture('small_tutorial.legacy.pth')), expected));
  it('views, offsets, strides, shared storages, float64/float16/int64 (zip and legacy)', () => {
    const want = loadSafetensors(fixture('views.expected.safetensors'));
    sameTensors(loadWeights(fixture('views.pth')), want);
    sameTensors(loadWeights(fixture('views.legacy.pth')), want);
  });
  it("nested checkpoints ({'state_dict': …}) and 'module.' prefixes", () => {
    sameTensors(loadWeights(fixture('nested.pth')), loadSafetensors(fixture('nested.expected.safetensors')));
  });
});

describe('hostile and malformed checkpoints are refused, naming the problem', () => {
  const pickleHex = {
    osSystem: '800263706f7369780a73797374656d0a7100580a0000006563686f2070776e656471018571025271032e',
    builtinsEval: '8002635f5f6275696c74696e5f5f0a6576616c0a71005803000000312b3171018571025271032e',
    protocol0Dict: '286470300a56610a70310a49310a732e',
  };
  const inZip = (pkl: Buffer) =>
    Buffer.from(
      zipSync(
        { 'archive/data.pkl': new Uint8Array(pkl), 'archive/version': new TextEncoder().encode('3\n') },
        { level: 0 },
      ),
    );
  const cases: [string, Buffer, RegExp][] = [
    [
      'a pickle calling os.system (zip)',
      inZip(Buffer.from(pickleHex.osSystem, 'hex')),
      /global 'posix\.system' is not allowed/,
    ],
    [
      'a pickle calling eval (legacy)',
      Buffer.from(pickleHex.builtinsEval, 'hex'),
      /global '__builtin__\.eval' is not allowed/,
    ],
    [
      'opcodes outside the allowed set',
      inZip(Buffer.from(pickleHex.protocol0Dict, 'hex')),
      /opcode 0x64 \('d'\) is not allowed/,
    ],
    ['a truncated zip', readFileSync(fixture('small_tutorial.pth')).subarray(0, 100_000), /not a valid zip archive/],
    ['wrong magic', Buffer.from('not a checkpoint at all'), /not a PyTorch checkpoint/],
    ['a legacy file with the wrong magic number', Buffer.from('80024b052e', 'hex'), /wrong magic number/],
    ['a truncated legacy file', readFileSync(fixture('small_tutorial.legacy.pth')).subarray(0, 5000), /truncated/],
    [
      'a zip without data.pkl',
      Buffer.from(zipSync({ 'x/y.txt': new Uint8Array([1]) })),
      /expected one <dir>\/data\.pkl/,
    ],
  ];
  for (const [what, buf, message] of cases) {
    it(what, () =>
      assert.throws(
        () => parseTorchCheckpoint(buf, 'evil.pth'),
        (e: Error) => e.message.startsWith('evil.pth') && message.test(e.message),
      ),
    );
  }
  it('a storage missing from the archive', () => {
    // the real archive rebuilt without one storage file
    const files = Object.fromEntries(
      Object.entries(unzipSync(readFileSync(fixture('small_tutorial.pth')))).filter(([k]) => !k.endsWith('/data/0')),
    );
    const dir = mkdtempSync(join(tmpdir(), 'rx-'));
    writeFileSync(join(dir, 'm.pth'), zipSync(files, { level: 0 }));
    assert.throws(() => loadWeights(join(dir, 'm.pth')), /data\/0: missing from the archive/);
  });
});

describe('safetensors and .npy round trips', () => {
  it('model → safetensors → model → safetensors is byte-identical', () => {
    const a = createModel('resnext_tiny', { seed: 3, numClasses: 5 });
    const bytes = serializeSafetensors(a.stateDict(), { format: 'pt' });
    const b = createModel('resnext_tiny', { seed: 4, numClasses: 5 });
    b.loadStateDict(parseSafetensors(bytes));
    assert.ok(Buffer.from(serializeSafetensors(b.stateDict(), { format: 'pt' })).equals(bytes));
  });
  it('reads F16 and BF16 safetensors (to float32) and keeps __metadata__', () => {
    const f16 = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]).buffer); // 1, -2, 65504, 2^-24
    const bf16 = Buffer.from(new Uint16Array([0x3f80, 0xc040]).buffer); // 1, -3
    const head = Buffer.from(
      JSON.stringify({
        __metadata__: { format: 'pt' },
        h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
      }),
    );
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(head.length));
    const t = parseSafetensors(Buffer.concat([len, head, f16, bf16]));
    assert.deepEqual(Array.from(t.get('h')!.toArray()), [1, -2, 65504, 2 ** -24]);
    assert.deepEqual(Array.from(t.get('b')!.toArray()), [1, -3]);
    assert.equal(t.get('h')!.dtype, 'float32');
    assert.deepEqual(safetensorsMetadata(serializeSafetensors(new Map(), { format: 'pt' })), { format: 'pt' });
  });
  it('.npy → .npy is exact for float32, float64, int64 (and reads numpy-written files)', () => {
    for (const t of [
      tensor([1.5, -2, 3e-8, 7], [2, 2]),
      tensor([Math.PI, -1e300], [2], { dtype: 'float64' }),
      tensor([-3, 2 ** 40, 0], [3], { dtype: 'int64' }),
      tensor([4], []),
    ]) {
      const back = parseNpy(serializeNpy(t));
      assert.deepEqual(back.shape, t.shape);
      assert.equal(back.dtype, t.dtype);
      assert.deepEqual(Array.from(back.toArray()), Array.from(t.toArray()));
      assert.deepEqual(serializeNpy(back), serializeNpy(t));
    }
    const x = parseNpy(readFileSync(fixture('small_tutorial.input.npy')));
    assert.deepEqual(x.shape, [2, 3, 64, 64]);
  });
  it('.npy with an unsupported dtype, Fortran order or short data is rejected', () => {
    const npy = (header: string, data: Buffer) => {
      const h = `${header + ' '.repeat(63 - ((10 + header.length) % 64))}\n`;
      const len = Buffer.alloc(2);
      len.writeUInt16LE(h.length);
      return Buffer.concat([
        Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]),
        len,
        Buffer.from(h, 'latin1'),
        data,
      ]);
    };
    assert.throws(
      () => parseNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", Buffer.alloc(8)), 'x.npy'),
      /x\.npy: unsupported dtype '<i4'/,
    );
    assert.throws(
      () => parseNpy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", Buffer.alloc(16)), 'x.npy'),
      /Fortran-order/,
    );
    assert.throws(
      () => parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", Buffer.alloc(8)), 'x.npy'),
      /data holds 8 bytes/,
    );
    assert.throws(() => parseNpy(Buffer.from('hello world'), 'x.npy'), /not a \.npy file/);
  });
});

describe('resnext forward and convert', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-cli-'));
  const logits = parseNpy(readFileSync(fixture('small_tutorial.logits.npy')));
  for (const weights of ['small_tutorial.pth', 'small_tutorial.legacy.pth', 'small_tutorial.weights.safetensors']) {
    it(`forward with ${weights} matches PyTorch's logits to 1e-4`, () => {
      const out = join(dir, `${weights}.npy`);
      const r = runCli([
        'forward',
        'resnext_tiny',
        '--weights',
        fixture(weights),
        '--input-npy',
        fixture('small_tutorial.input.npy'),
        '--output',
        out,
        '--eval',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assertClose(parseNpy(readFileSync(out)).toArray(), logits.toArray(), 1e-4, 'logits');
    });
  }
  it('convert checks against the model and writes safetensors that load back identically', () => {
    const out = join(dir, 'tiny.safetensors');
    const r = runCli(['convert', fixture('small_tutorial.legacy.pth'), out, '--model', 'resnext_tiny']);
    assert.equal(r.status, 0, r.stderr);
    sameTensors(loadSafetensors(out), loadSafetensors(fixture('small_tutorial.weights.safetensors')));
  });
  it('a checkpoint for another model: exit 2, the mismatch named, no output file, no temp file left', () => {
    const out = join(dir, 'never.safetensors');
    const r = runCli(['convert', fixture('small_tutorial.pth'), out, '--model', 'resnext50']);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /does not fit model 'resnext50' — these weights fit 'resnext_tiny': missing keys .*shape mismatch for stage1\.0\.residual\.0\.weight: checkpoint has \[8, 64, 1, 1\], model expects \[128, 64, 1, 1\]/,
    );
    assert.ok(!existsSync(out));
    const f = runCli([
      'forward',
      'resnext_tiny',
      '--weights',
      fixture('small_tutorial.pth'),
      '--input',
      fixture('small_tutorial.logits.npy'),
      '--output',
      join(dir, 'bad.npy'),
    ]);
    assert.equal(f.status, 2);
    assert.match(f.stderr, /input must be 4-D \[N, C, H, W\], got shape \[2, 5\]/);
    assert.ok(readdirSync(dir).every((n) => !n.endsWith('.tmp')));
  });
  it('an unreadable weights file: exit 2 naming it', () => {
    const r = runCli([
      'forward',
      'resnext_tiny',
      '--weights',
      join(dir, 'nope.pth'),
      '--input',
      'x.npy',
      '--output',
      'y.npy',
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nope\.pth: cannot read file \(ENOENT\)/);
  });
  it('forward takes its input file as --input-npy (the old --input too); a shape there is explained', () => {
    const base = [
      'forward',
      'resnext_tiny',
      '--weights',
      fixture('small_tutorial.pth'),
      '--output',
      join(dir, 'o.npy'),
    ];
    const shape = runCli([...base, '--input', '2,3,32,32']);
    assert.equal(shape.status, 2);
    assert.equal(
      shape.stderr,
      'resnext forward: --input 2,3,32,32: forward reads its input from a file; pass --input-npy x.npy\n',
    );
    const none = runCli(base);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /missing --input-npy <file>/);
    assert.doesNotMatch(runCli(['forward', '--help']).stdout, /--input </, 'the old spelling is not advertised');
  });
});

const torchAvailable =
  spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;

describe('full-size resnext50_32x4d from PyTorch (generated when python3-torch is installed)', {
  skip:
    !torchAvailable &&
    'python3-torch/torchvision not installed: apt-get install -y python3-torch python3-torchvision to run it',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-r50-'));
  it('generate the checkpoint with PyTorch', { timeout: 300_000 }, () => {
    const r = spawnSync(
      '/usr/bin/python3',
      [join(FIXTURES, '..', '..', 'scripts', 'make_fixtures.py'), '--resnext50', dir],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  });
  it('convert the zip checkpoint to safetensors, checked against resnext50_32x4d', { timeout: 300_000 }, () => {
    const r = runCli([
      'convert',
      join(dir, 'resnext50_32x4d.pth'),
      join(dir, 'resnext50_32x4d.safetensors'),
      '--model',
      'resnext50_32x4d',
    ]);
    assert.equal(r.status, 0, r.stderr);
  });
  for (const weights of ['resnext50_32x4d.pth', 'resnext50_32x4d.legacy.pth', 'resnext50_32x4d.safetensors']) {
    it(`forward with ${weights} matches PyTorch's logits to 1e-4`, { timeout: 300_000 }, () => {
      const out = join(dir, `${weights}.npy`);
      const r = runCli([
        'forward',
        'resnext50_32x4d',
        '--weights',
        join(dir, weights),
        '--input',
        join(dir, 'resnext50_32x4d.input.npy'),
        '--output',
        out,
        '--eval',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assertClose(
        parseNpy(readFileSync(out)).toArray(),
        parseNpy(readFileSync(join(dir, 'resnext50_32x4d.logits.npy'))).toArray(),
        1e-4,
        'logits',
      );
    });
  }
});
