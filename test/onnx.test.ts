// ONNX export: onnxruntime-node runs what we write and agrees with PyTorch and with our forward;
// onnx.checker (Debian python3-onnx, when installed) accepts it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { noGrad } from '../src/autograd/engine';
import { parseNpy } from '../src/io/npy';
import { createModel, modelName } from '../src/models/registry';
import { randn } from '../src/tensor/create';
import { Generator } from '../src/tensor/random';
import type { Tensor } from '../src/tensor/tensor';
import { assertClose, FIXTURES, runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rx-onnx-'));
const hasOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;

async function runOrt(file: string, x: Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 2 });
  const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.toArray()), [...x.shape]) });
  return out.output.data as Float32Array;
}

function checkOnnx(file: string): void {
  const r = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
}

describe('ONNX export', () => {
  it("tiny ResNeXt with PyTorch's weights: onnxruntime matches PyTorch's logits (dynamic batch)", async () => {
    const file = join(dir, 'tiny.onnx');
    const r = runCli([
      'export',
      'resnext_tiny',
      '--weights',
      join(FIXTURES, 'small_tutorial.pth'),
      '--onnx',
      file,
      '--input',
      '3,64,64',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const x = parseNpy(readFileSync(join(FIXTURES, 'small_tutorial.input.npy')));
    assertClose(
      await runOrt(file, x),
      parseNpy(readFileSync(join(FIXTURES, 'small_tutorial.logits.npy'))).toArray(),
      1e-4,
      'logits',
    );
    if (hasOnnx) checkOnnx(file);
  });
  for (const name of ['resnext50', 'resnext50_32x4d']) {
    it(`${name} at 224x224: onnxruntime matches our forward to 1e-4`, { timeout: 240_000 }, async () => {
      const file = join(dir, `${name}.onnx`);
      const r = runCli(['export', name, '--onnx', file, '--batch', '1']);
      assert.equal(r.status, 0, r.stderr);
      const model = createModel(modelName(name), { seed: 0 }).eval(); // the CLI's default weights
      const x = randn([1, 3, 224, 224], { generator: new Generator(9) });
      const ours = noGrad(() => model.call(x)).toArray();
      assertClose(await runOrt(file, x), ours, 1e-4, 'logits');
      if (hasOnnx) checkOnnx(file);
    });
  }
  it('onnx.checker accepts the export', {
    skip: !hasOnnx && 'python3-onnx not installed (apt-get install -y python3-onnx)',
  }, () => {
    const file = join(dir, 'resnet18.onnx');
    assert.equal(runCli(['export', 'resnet18', '--onnx', file]).status, 0);
    checkOnnx(file);
  });
  it('bad arguments exit 2', () => {
    const r = runCli(['export', 'resnext50', '--onnx', join(dir, 'x.onnx'), '--batch', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--batch must be a positive integer up to 2,147,483,647, got '0'/);
    const m = runCli([
      'export',
      'resnext50',
      '--onnx',
      join(dir, 'x.onnx'),
      '--weights',
      join(FIXTURES, 'small_tutorial.pth'),
    ]);
    assert.equal(m.status, 2);
    assert.match(m.stderr, /does not fit model 'resnext50'/);
  });
});
