// Hardening: hostile and damaged files (crafted by test/craft.ts), interrupted writes and runs,
// damaged checkpoints, NaN metrics and messages — each refused with exit 2 and one line naming
// the file and the problem, no stack trace, no leftover file, bounded memory where size is the point.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from '../src/io/crc32';
import { FileFormatError } from '../src/io/errors';
import { loadNpy } from '../src/io/load-save';
import { readSafetensors, safetensorsMetadata, serializeSafetensors, tensorBytes } from '../src/io/safetensors';
import { parseTorchCheckpoint } from '../src/io/torch-checkpoint';
import { tensor } from '../src/tensor/create';
import { ConfusionMatrix, topkHits } from '../src/train/metrics';
import { formatDuration, QuietProgress, RecentRate } from '../src/cli/progress';
import {
  f32,
  npyRaw,
  pk,
  safetensorsRaw,
  stateDictPickle,
  torchLegacy,
  torchZip,
  zeroBomb,
  type TensorSpec,
} from './craft';
import { FIXTURES, ROOT, runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rx-hard-'));
let n = 0;
/** Writes bytes to a fresh file in the test folder and returns its path. */
function file(bytes: Uint8Array, name = `f${n++}.pth`): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** The folder's temp files (what a killed or failed write could leave). */
function tempFiles(folder: string): string[] {
  return readdirSync(folder).filter((f) => f.endsWith('.tmp'));
}

/** Asserts a refused command: exit 2, one line naming `path` and matching `problem`, no stack trace, no output file. */
function assertRefused(r: ReturnType<typeof runCli>, path: string, problem: RegExp, output?: string): void {
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.ok(lines[0].includes(path), `names ${path}: ${lines[0]}`);
  assert.match(lines[0], problem);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  if (output) assert.ok(!existsSync(output), `no output file ${output}`);
  assert.deepEqual(tempFiles(dir), [], 'no temp file left');
}

const convert = (input: string, opts: Parameters<typeof runCli>[1] = {}) => {
  const out = join(dir, `out${n++}.safetensors`);
  return { out, r: runCli(['convert', input, out], opts) };
};

const two: Record<string, TensorSpec> = {
  w: { storage: '0', numel: 6, size: [2, 3], stride: [3, 1] },
  b: { storage: '1', numel: 2, size: [2], stride: [1] },
};
const twoData = { 0: f32(1, 2, 3, 4, 5, 6), 1: f32(7, 8) };

describe('1. the zip container', () => {
  it('a well-formed crafted archive converts (the crafting is right)', () => {
    const { out, r } = convert(file(torchZip(stateDictPickle(two, false), twoData)));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...readSafetensors(readFileSync(out)).tensors.keys()], ['w', 'b']);
  });
  for (const [what, flags] of [
    ['ZipCrypto-encrypted', 0x1],
    ['strong-encryption flagged', 0x41],
  ] as const) {
    it(`an ${what} entry is refused, not read as weights`, () => {
      const entries = torchZip(stateDictPickle(two, false), twoData);
      // set the encryption flag on every entry's local and central header
      const buf = Buffer.from(entries);
      for (let i = 0; i + 4 <= buf.length; i++) {
        const sig = buf.readUInt32LE(i);
        if (sig === 0x04034b50) buf.writeUInt16LE(flags, i + 6);
        if (sig === 0x02014b50) buf.writeUInt16LE(flags, i + 8);
      }
      const input = file(buf);
      const { out, r } = convert(input);
      assertRefused(r, input, /archive\/data\.pkl: is encrypted; encrypted archives are not supported/, out);
    });
  }
  it('a wrong CRC is noticed', () => {
    const buf = torchZip(stateDictPickle(two, false), twoData);
    const at = buf.indexOf(f32(1, 2, 3, 4, 5, 6));
    buf[at] ^= 0x01; // one flipped bit in the weights, the CRC left as it was
    const input = file(buf);
    const { out, r } = convert(input);
    assertRefused(
      r,
      input,
      /archive\/data\/0: CRC-32 is [0-9a-f]{8}, the archive says [0-9a-f]{8} \(damaged file\)/,
      out,
    );
  });
  it('an entry nothing refers to is never inflated: a 1 GiB bomb beside the weights costs nothing', () => {
    const bomb = zeroBomb(1024);
    const input = file(
      torchZip(stateDictPickle(two, false), twoData, [
        { name: 'archive/data/99', raw: bomb, method: 8, crc: 0, size: 1 << 30 },
      ]),
    );
    const { r } = convert(input, { measureRss: true });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.maxRssMiB < 400, `peak RSS ${r.maxRssMiB} MiB`);
  });
  it('a referenced entry that inflates past its declared size stops at that size (a 1 GiB stream declared as 24 bytes)', () => {
    const input = file(
      torchZip(stateDictPickle({ w: two.w }, false), {}, [
        { name: 'archive/data/0', raw: zeroBomb(1024), method: 8, crc: 0, size: 24 },
      ]),
    );
    const { out, r } = convert(input, { measureRss: true });
    assertRefused(r, input, /archive\/data\/0: inflates to more than the expected 24 bytes/, out);
    assert.ok(r.maxRssMiB < 400, `peak RSS ${r.maxRssMiB} MiB`);
  });
  it('a referenced 1 GiB storage compressed 1,000x is refused as a bomb before inflating', () => {
    const big: Record<string, TensorSpec> = { w: { storage: '0', numel: 2 ** 28, size: [2 ** 28], stride: [1] } };
    const input = file(
      torchZip(stateDictPickle(big, false), {}, [
        { name: 'archive/data/0', raw: zeroBomb(1024), method: 8, crc: 0, size: 2 ** 30 },
      ]),
    );
    const { out, r } = convert(input, { measureRss: true });
    assertRefused(
      r,
      input,
      /claims 1073741824 bytes from \d+ compressed, more than 100x \(refused as a decompression bomb\)/,
      out,
    );
    assert.ok(r.maxRssMiB < 400, `peak RSS ${r.maxRssMiB} MiB`);
  });
  it('the total a checkpoint may hold is a stated limit', () => {
    const buf = torchZip(stateDictPickle(two, false), twoData);
    // the budget counts every inflated byte: data.pkl fits in 340, its first storage does not
    assert.throws(
      () => parseTorchCheckpoint(buf, 'small.pth', { maxBytes: 340 }),
      /small\.pth: archive\/data\/0: would bring the archive's data to \d+ bytes, over the limit of 340 bytes/,
    );
  });
});

describe('2. views, offsets and element counts (both .pth formats)', () => {
  const cases: [string, Record<string, TensorSpec>, RegExp][] = [
    [
      'a negative storage offset',
      { w: { ...two.w, offset: -2 } },
      /storage offset is -2, expected a non-negative integer/,
    ],
    [
      'a fractional storage offset',
      { w: { ...two.w, offset: 1.5 } },
      /storage offset is 1\.5, expected a non-negative integer/,
    ],
    [
      'a negative element count',
      { w: { ...two.w, numel: -6 } },
      /storage 0 element count is -6, expected a non-negative integer/,
    ],
    ['a negative size', { w: { ...two.w, size: [2, -3] } }, /tensor size\[1\] is -3, expected a non-negative integer/],
    [
      'a view past the storage',
      { w: { ...two.w, offset: 1 } },
      /tensor 'w' \(offset 1, size \[2,3\], stride \[3,1\]\) reaches element 6 of a storage with 6/,
    ],
  ];
  for (const legacy of [false, true]) {
    for (const [what, sd, message] of cases) {
      it(`${legacy ? 'legacy' : 'zip'}: ${what} is refused, as torch.load refuses it`, () => {
        const pickle = stateDictPickle(sd, legacy);
        const input = file(legacy ? torchLegacy(pickle, { 0: twoData[0] }) : torchZip(pickle, { 0: twoData[0] }));
        const { out, r } = convert(input);
        assertRefused(r, input, message, out);
      });
    }
  }
  it('legacy: a view (key, offset, size) past its storage is refused', () => {
    const sd: Record<string, TensorSpec> = { w: { ...two.w, size: [4], stride: [1], view: ['v', 4, 4] } };
    const input = file(torchLegacy(stateDictPickle(sd, true), { 0: twoData[0] }));
    assertRefused(convert(input).r, input, /view v \(offset 4, size 4\) runs past storage 0 of 6 elements/);
  });
});

describe('3. names', () => {
  it("a tensor named '__proto__' is converted like any other (written, read back, counted)", () => {
    // fromEntries makes '__proto__' a real own key of the spec
    const sd = Object.fromEntries([
      ['__proto__', two.w],
      ['b', two.b],
    ]) as Record<string, TensorSpec>;
    const input = file(torchZip(stateDictPickle(sd, false), twoData));
    const { out, r } = convert(input);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote 2 tensors/);
    const back = readSafetensors(readFileSync(out)).tensors;
    assert.deepEqual([...back.keys()], ['__proto__', 'b']);
    assert.deepEqual(Array.from(back.get('__proto__')!.toArray()), [1, 2, 3, 4, 5, 6]);
  });
  it("a tensor named '__metadata__' is refused on write, not merged into the metadata", () => {
    const sd = { __metadata__: two.w, b: two.b } as Record<string, TensorSpec>;
    const input = file(torchZip(stateDictPickle(sd, false), twoData));
    const { out, r } = convert(input);
    assertRefused(r, out, /cannot write a tensor named '__metadata__': safetensors reserves that name/, out);
  });
  it('duplicate keys in a safetensors header are refused (readers disagree on which wins)', () => {
    const header =
      '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const input = file(safetensorsRaw(header, f32(1, 2)), 'dup.safetensors');
    assertRefused(convert(input).r, input, /header: duplicate key "x" at line 1, column \d+/);
  });
  it('duplicate keys in a .npy header are refused (numpy takes the last)', () => {
    const input = file(
      npyRaw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (2,), }", f32(1, 2)),
      'dup.npy',
    );
    assert.throws(() => loadNpy(input), /dup\.npy: header key 'shape' appears twice/);
  });
  it('a duplicate metadata key in a checkpoint written by hand is refused too', () => {
    const input = file(safetensorsRaw('{"__metadata__":{"a":"1","a":"2"}}', Buffer.alloc(0)), 'meta.safetensors');
    assert.throws(() => safetensorsMetadata(readFileSync(input), input), /duplicate key "a"/);
  });
});

describe('4. writes', () => {
  const input = join(FIXTURES, 'small_tutorial.pth');
  it('convert onto its own input is refused and the input is untouched', () => {
    const copy = file(readFileSync(input), 'self.pth');
    const before = readFileSync(copy);
    const r = runCli(['convert', copy, copy]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is the input file .*self\.pth; writing it would destroy the input/);
    assert.ok(readFileSync(copy).equals(before));
  });
  it('an output extension that does not match the format is refused', () => {
    const out = join(dir, 'out.npy');
    assertRefused(
      runCli(['convert', input, out]),
      out,
      /the output is safetensors; name it with the \.safetensors extension \(got '\.npy'\)/,
      out,
    );
  });
  it('an existing output keeps its mode (0600 stays 0600)', () => {
    const out = join(dir, 'private.safetensors');
    writeFileSync(out, 'old');
    chmodSync(out, 0o600);
    assert.equal(runCli(['convert', input, out]).status, 0);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.ok(readFileSync(out).length > 1000);
  });
  it('a symlink is written through (the link stays a link)', () => {
    const target = join(dir, 'real.safetensors'),
      link = join(dir, 'link.safetensors');
    writeFileSync(target, 'old');
    symlinkSync(target, link);
    assert.equal(runCli(['convert', input, link]).status, 0);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.ok(readFileSync(target).length > 1000);
  });
  it('a character device (/dev/null) is written in place, never replaced by a file', () => {
    const r = runCli(['convert', input, '/dev/null']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(statSync('/dev/null').isCharacterDevice());
  });
  it('a FIFO is refused (nothing would read it)', () => {
    const fifo = join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    const r = runCli(['convert', input, fifo]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /pipe\.safetensors: cannot write file: it is a FIFO/);
  });
  it('a temp file left by a killed process (SIGKILL) is swept by the next write', () => {
    const out = join(dir, 'swept.safetensors');
    const stale = join(dir, '.swept.safetensors.999999999.1700000000000.tmp');
    writeFileSync(stale, 'partial');
    assert.equal(runCli(['convert', input, out]).status, 0);
    assert.ok(!existsSync(stale));
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during convert never leaves a temp file, and the output is whole or absent`, {
      timeout: 120_000,
    }, async () => {
      const big = join(FIXTURES, 'small_resnext.safetensors');
      for (const delay of [150, 300, 450, 600, 750]) {
        const out = join(dir, `sig-${signal}-${delay}.safetensors`);
        const p = spawn(process.execPath, [join(ROOT, 'bin', 'resnext.js'), 'convert', big, out], { stdio: 'ignore' });
        const exited = new Promise((resolve) => p.on('exit', resolve));
        await new Promise((resolve) => setTimeout(resolve, delay));
        p.kill(signal);
        await exited;
        assert.deepEqual(tempFiles(dir), []);
        if (existsSync(out))
          assert.equal(
            readSafetensors(readFileSync(out)).tensors.size,
            readSafetensors(readFileSync(big)).tensors.size,
          );
      }
    });
  }
});

describe('8. messages name the file and the problem (never a JavaScript internal)', () => {
  const pickled = (value: Buffer) => file(torchZip(pk.program(value), {}));
  const cases: [string, () => string, RegExp][] = [
    [
      'a huge APPENDS (once "Maximum call stack size exceeded")',
      () =>
        pickled(
          Buffer.concat([
            Buffer.from([0x5d, 0x28]),
            ...Array.from({ length: 200_000 }, () => Buffer.from([0x4e])),
            Buffer.from([0x65]),
          ]),
        ),
      /no state_dict found \(top level: a list of 200000\)/,
    ],
    [
      'a persistent id that is not a tuple (once "unexpected persistent id undefined")',
      () => pickled(Buffer.concat([pk.str('x'), Buffer.from([0x51])])),
      /persistent id is "x", expected \('storage', type, key, location, numel\)/,
    ],
    [
      'a safetensors entry that is null (once "Cannot read properties of null")',
      () => file(safetensorsRaw('{"x":null}', Buffer.alloc(0)), 'null.safetensors'),
      /tensor 'x' is described by null, expected \{dtype, shape, data_offsets\}/,
    ],
    [
      'a protocol-0 pickle (once reported as a safetensors header length)',
      () => file(Buffer.from("(dp0\nS'a'\np1\nI1\ns."), 'p0.pth'),
      /is a pickle of protocol 0 or 1, which torch\.save never writes/,
    ],
    [
      'a .npy given as weights (once "header length 379676406402707")',
      () => file(npyRaw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32(1)), 'x.npy'),
      /is a NumPy \.npy array, not a weights file/,
    ],
    [
      'a stride-0 view of 2^40 elements (once "Array buffer allocation failed")',
      () =>
        file(
          torchZip(
            stateDictPickle({ w: { storage: '0', numel: 1, size: [2 ** 20, 2 ** 20], stride: [0, 0] } }, false),
            { 0: f32(1) },
          ),
        ),
      /tensor 'w' of size \[1048576,1048576\] brings the checkpoint over its limit of tensor data/,
    ],
    [
      'invalid UTF-8 in a pickle string',
      () => pickled(Buffer.concat([Buffer.from([0x58]), Buffer.from([2, 0, 0, 0]), Buffer.from([0xc3, 0x28])])),
      /string of 2 bytes is not valid UTF-8/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(what, () => {
      const input = make();
      const { out, r } = convert(input);
      assertRefused(r, input, message, out);
    });
  }
  it('a tensor size that is a dict says what it got (once "got [object Object]")', () => {
    const sizeDict = Buffer.concat([
      pk.str('w'),
      pk.reduce(
        pk.global('torch._utils', '_rebuild_tensor_v2'),
        pk.tuple(
          pk.persid(
            pk.tuple(pk.str('storage'), pk.global('torch', 'FloatStorage'), pk.str('0'), pk.str('cpu'), pk.int(6)),
          ),
          pk.int(0),
          pk.dict([]),
          pk.tuple(pk.int(1)),
          pk.bool(false),
          pk.none(),
        ),
      ),
    ]);
    const body = Buffer.concat([Buffer.from([0x7d, 0x28]), sizeDict, Buffer.from([0x75])]);
    const input = file(torchZip(pk.program(body), { 0: twoData[0] }));
    assertRefused(convert(input).r, input, /tensor size is a dict of 0, expected a tuple of non-negative integers/);
  });
  it('every parser throws its own FileFormatError naming the source', () => {
    assert.throws(
      () => parseTorchCheckpoint(Buffer.from('PK\x03\x04garbage'), 'g.pth'),
      (e: Error) => e instanceof FileFormatError && e.message.startsWith('g.pth: '),
    );
  });
});

describe('6. damaged checkpoints are refused on --resume', () => {
  const out = join(dir, 'run');
  const trainArgs = [
    'train',
    'resnext_tiny',
    '--data',
    'fashion-mnist',
    '--epochs',
    '2',
    '--batch-size',
    '32',
    '--limit-train',
    '64',
    '--limit-test',
    '32',
    '--out',
    out,
  ];
  const ckpt = join(out, 'checkpoint.safetensors');
  let good: Buffer;
  /** Rewrites the checkpoint with `edit` applied to its tensors and metadata (the CRCs recomputed unless `keepCrc`). */
  const damage = (
    edit: (t: Map<string, ReturnType<typeof tensor>>, meta: Map<string, string>) => void,
    keepCrc = false,
  ) => {
    const { tensors, metadata } = readSafetensors(good);
    edit(tensors, metadata);
    if (!keepCrc) {
      const sums = Object.fromEntries(
        [...tensors].map(([k, t]) => [k, crc32(tensorBytes(t)).toString(16).padStart(8, '0')]),
      );
      metadata.set('crc32', JSON.stringify(sums));
    }
    writeFileSync(ckpt, serializeSafetensors(tensors, metadata));
  };
  it('(a run of one epoch to damage)', () => {
    const r = runCli([...trainArgs.slice(0, 5), '1', ...trainArgs.slice(6)]);
    assert.equal(r.status, 0, r.stderr);
    good = readFileSync(ckpt);
  });
  const cases: [string, () => void, RegExp][] = [
    [
      'one flipped bit in the weights',
      () => {
        const at = good.length - 3;
        const b = Buffer.from(good);
        b[at] ^= 0x10;
        writeFileSync(ckpt, b);
      },
      /tensor '[^']+' has CRC-32 [0-9a-f]{8}, the checkpoint recorded [0-9a-f]{8} \(the file is damaged\)/,
    ],
    [
      'a missing optimizer tensor',
      () =>
        damage((t) => {
          t.delete([...t.keys()].find((k) => k.startsWith('optim.'))!);
        }),
      /optimizer state: missing momentum_buffer\./,
    ],
    [
      'an absurd batch index',
      () =>
        damage((_, m) => {
          const s = JSON.parse(m.get('run')!);
          s.batch = 99999;
          m.set('run', JSON.stringify(s));
        }),
      /run state batch 99999 is beyond the 2 batches of an epoch/,
    ],
    [
      'a non-numeric step',
      () =>
        damage((_, m) => {
          const s = JSON.parse(m.get('run')!);
          s.step = 'many';
          m.set('run', JSON.stringify(s));
        }),
      /run state 'step' is "many", expected a non-negative integer/,
    ],
    [
      'run state that is not JSON',
      () =>
        damage((_, m) => {
          m.set('run', '{oops');
        }),
      /run metadata: not valid JSON/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(`${what}: exit 2 naming the checkpoint, nothing trained`, () => {
      make();
      const r = runCli([...trainArgs, '--resume']);
      assertRefused(r, ckpt, message);
      writeFileSync(ckpt, good);
    });
  }
});

describe('5. training runs: previous runs are kept, Ctrl-C stops after the step', () => {
  const base = ['train', 'resnext_tiny', '--data', 'fashion-mnist', '--batch-size', '32', '--limit-test', '32'];
  it('a fresh run into a folder holding a run is refused; the old run is untouched', () => {
    const out = join(dir, 'keep');
    assert.equal(runCli([...base, '--epochs', '1', '--limit-train', '64', '--out', out]).status, 0);
    const before = readFileSync(join(out, 'checkpoint.safetensors'));
    const r = runCli([...base, '--epochs', '1', '--limit-train', '64', '--out', out]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /keep: holds a previous run \(checkpoint\.safetensors, model\.safetensors, metrics\.jsonl, curves\.svg, curves\.png\); continue it with --resume, replace it with --overwrite/,
    );
    assert.ok(readFileSync(join(out, 'checkpoint.safetensors')).equals(before));
    const o = runCli([...base, '--epochs', '1', '--limit-train', '64', '--seed', '5', '--out', out, '--overwrite']);
    assert.equal(o.status, 0, o.stderr);
    assert.ok(!readFileSync(join(out, 'checkpoint.safetensors')).equals(before), '--overwrite replaced it');
  });
  it('resuming a finished run says so and trains nothing', () => {
    const out = join(dir, 'keep');
    const r = runCli([...base, '--epochs', '1', '--limit-train', '64', '--out', out, '--resume']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /the run has finished all 1 epochs; nothing to resume/);
  });
  const start = (out: string, epochs = '1') => {
    const args = [join(ROOT, 'bin', 'resnext.js'), ...base, '--epochs', epochs, '--limit-train', '2048', '--out', out];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    // the first plain progress line: a tenth of the epoch (7 of 64 steps) is trained
    const started = new Promise<void>((resolve) =>
      p.stderr!.on('data', (d) => {
        err += d;
        if (/epoch 1\/1: \d+% \(7\/64 batches\)/.test(err)) resolve();
      }),
    );
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      p.on('exit', (code, signal) => resolve({ code, signal })),
    );
    return { p, started, exited, stderr: () => err };
  };
  it('Ctrl-C mid-epoch stops after the current step (exit 130) and the run resumes to the same weights', {
    timeout: 240_000,
  }, async () => {
    const cut = join(dir, 'ctrlc'),
      full = join(dir, 'ctrlc-full');
    const run = start(cut);
    await run.started;
    run.p.kill('SIGINT');
    const { code } = await run.exited;
    assert.equal(code, 130, run.stderr());
    const state = JSON.parse(readSafetensors(readFileSync(join(cut, 'checkpoint.safetensors'))).metadata.get('run')!);
    assert.ok(state.batch >= 7 && state.batch < 64, `stopped mid-epoch (batch ${state.batch} of 64), not at its end`);
    assert.equal(runCli([...base, '--epochs', '1', '--limit-train', '2048', '--out', cut, '--resume']).status, 0);
    assert.equal(runCli([...base, '--epochs', '1', '--limit-train', '2048', '--out', full]).status, 0);
    assert.ok(
      readFileSync(join(cut, 'model.safetensors')).equals(readFileSync(join(full, 'model.safetensors'))),
      'exact resume',
    );
  });
  it('a second Ctrl-C aborts at once (killed by SIGINT, no waiting for the step or the checkpoint)', {
    timeout: 120_000,
  }, async () => {
    const run = start(join(dir, 'abort'));
    await run.started;
    run.p.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 5));
    run.p.kill('SIGINT');
    const { code, signal } = await run.exited;
    assert.ok(signal === 'SIGINT' || code === 130, `code ${code}, signal ${signal}`);
  });
});

describe('7. metrics: NaN or Inf logits are misses', () => {
  it('topkHits and the confusion matrix count a non-finite row as wrong', () => {
    const logits = tensor([NaN, NaN, NaN, 0, 1, 2, Infinity, 0, 0], [3, 3]);
    assert.equal(topkHits(logits, [0, 2, 0], 1), 1);
    assert.equal(topkHits(logits, [0, 2, 0], 3), 1);
    const m = new ConfusionMatrix(3);
    m.add(logits, [0, 2, 0]);
    assert.deepEqual(
      m.perClassAccuracy().map((x) => (Number.isNaN(x) ? 'nan' : x)),
      [0, 'nan', 1],
    );
  });
  it('eval of weights that produce NaN reports 0%, not 100%', () => {
    const src = readSafetensors(readFileSync(join(dir, 'keep', 'model.safetensors')));
    const fc = src.tensors.get('fc.weight')!;
    src.tensors.set('fc.weight', tensor(new Float32Array(fc.numel).fill(NaN), fc.shape));
    const w = file(serializeSafetensors(src.tensors, src.metadata), 'nan.safetensors');
    const r = runCli([
      'eval',
      'resnext_tiny',
      '--weights',
      w,
      '--data',
      'fashion-mnist',
      '--limit-test',
      '64',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.top1, 0);
    assert.equal(j.top5, 0);
  });
  it('training stops with a clear error when the loss becomes non-finite', () => {
    const r = runCli([
      'train',
      'resnext_tiny',
      '--data',
      'fashion-mnist',
      '--epochs',
      '3',
      '--batch-size',
      '32',
      '--limit-train',
      '256',
      '--limit-test',
      '32',
      '--lr',
      '1e30',
      '--out',
      join(dir, 'nan-run'),
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /training loss became (NaN|Infinity) at epoch \d+, batch \d+ \(step \d+\); the weights were not updated — lower --lr/,
    );
  });
});

describe('12. progress', () => {
  it('long work reports plain progress lines after 2 seconds, short work stays quiet', () => {
    const lines: string[] = [];
    const p = new QuietProgress('evaluating', 1000, 'images', (l) => lines.push(l));
    p.update(500);
    assert.deepEqual(lines, [], 'quiet in the first 2 seconds');
    (p as unknown as { start: number }).start -= 10_000; // as if 10 s had passed
    p.update(600);
    p.update(650);
    assert.equal(lines.length, 1, 'one line per tenth');
    assert.match(lines[0], /^evaluating: 60% \(600 of 1,000 images\), ETA \d+s$/);
  });
  it('durations never show 60 seconds or minutes', () => {
    assert.equal(formatDuration(119.6), '2m00s');
    assert.equal(formatDuration(59.6), '1m00s');
    assert.equal(formatDuration(3599.7), '1h00m');
    assert.equal(formatDuration(42), '42s');
  });
  it('images/s follows the last steps, not the average since the epoch began', () => {
    const r = new RecentRate(3);
    r.add(0, 0);
    r.add(100, 10_000); // a slow first step: 10 s
    for (let t = 1; t <= 5; t++) r.add(100, 10_000 + t * 100);
    assert.equal(r.add(100, 10_600), 1000);
  });
});
