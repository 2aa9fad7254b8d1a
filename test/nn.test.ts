// Tensors, autograd and nn: accumulation, noGrad, detach, state dicts, hooks, train/eval, errors.
import '../src/backend/node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { noGrad } from '../src/autograd/engine';
import { metaBackend } from '../src/backend/meta';
import { BatchNorm2d, Conv2d, Linear, ReLU } from '../src/nn/layers';
import { Sequential } from '../src/nn/sequential';
import { tensor, zeros, randn } from '../src/tensor/create';
import * as F from '../src/tensor/ops';
import { Generator } from '../src/tensor/random';

describe('autograd', () => {
  it('accumulates gradients across backward calls and through shared inputs', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    F.sum(F.mul(x, x)).backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), [2, 4, 6]);
    F.sum(F.add(x, x)).backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), [4, 6, 8]);
  });
  it('noGrad records nothing; detach cuts the graph', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    assert.equal(noGrad(() => F.mul(x, x)).requiresGrad, false);
    assert.equal(F.mul(x.detach(), x.detach()).requiresGrad, false);
    assert.throws(() => F.sum(x.detach()).backward(), /does not require grad/);
  });
  it('backward needs a scalar or an explicit gradient', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    assert.throws(() => F.scale(x, 2).backward(), /only for a scalar output/);
    F.scale(x, 2).backward(tensor([1, 1], [2]));
    assert.deepEqual(Array.from(x.grad!.toArray()), [2, 2]);
  });
  it('shape, dtype and backend errors name the op and shapes', () => {
    assert.throws(() => F.add(zeros([2, 3]), zeros([3, 2])), /add: shapes \[2, 3\] and \[3, 2\] differ/);
    assert.throws(() => F.conv2d(zeros([1, 3, 8]), zeros([4, 3, 3, 3])), /conv2d: input must be 4-D/);
    assert.throws(
      () => F.conv2d(zeros([1, 6, 8, 8]), zeros([4, 3, 3, 3]), null, { groups: 4 }),
      /input channels 6 are not divisible by groups 4/,
    );
    assert.throws(
      () => F.conv2d(zeros([1, 3, 2, 2]), zeros([4, 3, 3, 3])),
      /too small: padded size 2x2 is smaller than the kernel 3x3/,
    );
    assert.throws(() => F.add(zeros([2], { dtype: 'float64' }), zeros([2])), /mixed dtypes/);
    assert.throws(() => F.crossEntropy(zeros([2, 3]), [0, 3]), /target 3 at row 1 is not a class index in \[0, 3\)/);
    assert.throws(() => zeros([2]).reshape([3]), /reshape: shape \[3\] is invalid/);
  });
  it('topk and argmax', () => {
    const t = tensor([
      [0.1, 0.7, 0.2],
      [0.5, 0.1, 0.4],
    ]);
    assert.deepEqual(F.argmax(t), [1, 0]);
    assert.deepEqual(F.topk(t, 2).indices, [
      [1, 2],
      [0, 2],
    ]);
  });
});

describe('nn modules', () => {
  it("grouped Conv2d: the tutorial's parameter arithmetic and its errors", () => {
    assert.equal(new Conv2d(64, 128, 3, { bias: false }).weight.numel, 64 * 128 * 3 * 3);
    assert.equal(new Conv2d(64, 128, 3, { bias: false, groups: 32 }).weight.numel, 32 * (2 * 4 * 3 * 3));
    assert.deepEqual(new Conv2d(128, 128, 3, { groups: 32 }).weight.shape, [128, 4, 3, 3]);
    assert.throws(
      () => new Conv2d(130, 128, 3, { groups: 32 }),
      /Conv2d: in_channels 130 is not divisible by groups 32/,
    );
    assert.throws(
      () => new Conv2d(128, 100, 3, { groups: 32 }),
      /Conv2d: out_channels 100 is not divisible by groups 32/,
    );
  });
  it('BatchNorm2d: running stats with momentum 0.1 (unbiased variance), eval uses them', () => {
    const bn = new BatchNorm2d(1);
    const x = tensor([1, 2, 3, 4], [4, 1, 1, 1]);
    bn.call(x);
    assert.ok(Math.abs(bn.runningMean!.item() - 0.25) < 1e-6);
    assert.ok(Math.abs(bn.runningVar!.item() - (0.9 + 0.1 * (5 / 3))) < 1e-6);
    assert.equal(bn.numBatchesTracked!.item(), 1);
    bn.eval();
    const y = bn.call(x).toArray();
    assert.ok(Math.abs(y[0] - (1 - 0.25) / Math.sqrt(bn.runningVar!.item() + 1e-5)) < 1e-5);
    assert.equal(bn.numBatchesTracked!.item(), 1, 'eval does not count batches');
  });
  it('stateDict / loadStateDict report missing, unexpected and mis-shaped keys', () => {
    const net = new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4), new ReLU());
    const sd = net.stateDict();
    assert.deepEqual(
      [...sd.keys()],
      ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked'],
    );
    const other = new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4), new ReLU());
    other.loadStateDict(sd);
    assert.deepEqual(other.stateDict().get('0.weight')!.toArray(), sd.get('0.weight')!.toArray());
    const bad = new Map(sd);
    bad.delete('1.bias');
    bad.set('extra.weight', zeros([1]));
    bad.set('0.weight', zeros([4, 3, 5, 5]));
    assert.throws(
      () => other.loadStateDict(bad),
      /missing keys \(1\): 1\.bias; unexpected keys \(1\): extra\.weight; shape mismatch for 0\.weight: checkpoint has \[4, 3, 5, 5\], model expects \[4, 3, 3, 3\]/,
    );
    const report = other.loadStateDict(bad, { strict: false });
    assert.deepEqual(report.missingKeys, ['1.bias']);
    assert.deepEqual(report.unexpectedKeys, ['extra.weight']);
    assert.equal(report.shapeMismatches[0].key, '0.weight');
  });
  it('forward hooks see inputs and outputs; handles remove them', () => {
    const net = new Sequential(new Linear(3, 2), new ReLU());
    const seen: string[] = [];
    const h = net
      .at(0)
      .registerForwardHook((m, inputs, out) => seen.push(`${m.typeName} ${inputs[0].shape} -> ${out.shape}`));
    net.call(zeros([5, 3]));
    h.remove();
    net.call(zeros([5, 3]));
    assert.deepEqual(seen, ['Linear 5,3 -> 5,2']);
  });
  it('train()/eval() reach every descendant; repr is PyTorch-like', () => {
    const net = new Sequential(new Conv2d(3, 8, 3, { groups: 1, bias: false }), new BatchNorm2d(8));
    net.eval();
    assert.ok(net.namedModules().every(([, m]) => !m.training));
    assert.match(net.toString(), /\(0\): Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\), bias=False\)/);
  });
  it('meta tensors carry shapes and refuse to give values', () => {
    const y = F.conv2d(
      zeros([2, 8, 10, 10], { backend: metaBackend }),
      randn([8, 2, 3, 3], { generator: new Generator(1) }),
      null,
      { groups: 4, stride: 2, padding: 1 },
    );
    assert.deepEqual(y.shape, [2, 8, 5, 5]);
    assert.equal(y.backend.name, 'meta');
    assert.throws(() => y.toArray(), /meta backend: tensors on the meta backend carry shapes only/);
  });
});

describe('printing a tensor', () => {
  it('console.log shows shape, dtype, backend and a few values, like PyTorch (not the storage)', () => {
    const t = tensor([0.5, -1, 2.25, 3, 4, 5, 6, 7], [2, 4]);
    assert.equal(
      inspect(t),
      `Tensor(shape=[2, 4], dtype=float32, backend=${t.backend.name}) [0.5, -1, 2.25, 3, 4, 5, … 2 more]`,
    );
    const big = new Linear(2048, 1000).weight;
    assert.ok(inspect(big).split('\n').length === 1 && inspect(big).length < 200, inspect(big));
    assert.match(
      inspect(zeros([2, 3], { backend: metaBackend })),
      /^Tensor\(shape=\[2, 3\], dtype=float32, backend=meta\) \(shapes only\)$/,
    );
  });
});
