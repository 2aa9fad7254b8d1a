// A small ResNeXt (tutorial layout and torchvision layout) against PyTorch 1.13: forward output,
// loss, every parameter gradient and the BN buffers after the step, in train and eval mode.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Backend } from '../src/backend/contract';
import { loadableBackends } from '../src/backend/node';
import { loadSafetensors } from '../src/io/load-save';
import type { Module } from '../src/nn/module';
import { ResNet } from '../src/models/resnet';
import { TutorialResNeXt } from '../src/models/tutorial';
import * as F from '../src/tensor/ops';
import type { Tensor } from '../src/tensor/tensor';
import { assertClose, FIXTURES } from './helpers';

const RTOL = 1e-4;

function prefixed(all: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  return new Map([...all].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

function checkPass(
  model: Module,
  fx: Map<string, Tensor>,
  mode: 'train' | 'eval',
  smoothing: number,
  backend: Backend,
): void {
  model.loadStateDict(prefixed(fx, 'state.'));
  model.zeroGrad();
  model.train(mode === 'train');
  const out = model.call(fx.get('input')!.to(backend));
  assert.equal(out.backend, backend);
  const loss = F.crossEntropy(out, fx.get('target')!, { labelSmoothing: smoothing });
  loss.backward();
  assertClose(out.toArray(), fx.get(`${mode}.output`)!.toArray(), RTOL, `${mode} output`);
  assertClose([loss.item()], [fx.get(`${mode}.loss`)!.item()], RTOL, `${mode} loss`);
  const grads = prefixed(fx, `${mode}.grad.`);
  assert.equal(grads.size, model.parameters().length, 'one PyTorch gradient per parameter');
  for (const [name, p] of model.namedParameters()) {
    assert.ok(p.grad, `${mode}: ${name} has no gradient`);
    assertClose(p.grad!.toArray(), grads.get(name)!.toArray(), RTOL, `${mode} grad ${name}`, 1e-7);
  }
  for (const [name, b] of model.namedBuffers()) {
    assertClose(b.toArray(), fx.get(`${mode}.buffer.${name}`)!.toArray(), RTOL, `${mode} buffer ${name}`);
  }
}

const cases: [string, (backend: Backend) => Module][] = [
  [
    'small_tutorial',
    (backend) => new TutorialResNeXt({ blocks: [1, 1, 1, 1], cardinality: 4, baseWidth: 8, numClasses: 5, backend }),
  ],
  [
    'small_resnext',
    (backend) =>
      new ResNet({
        block: 'bottleneck',
        layers: [1, 1, 1, 1],
        groups: 4,
        widthPerGroup: 8,
        numClasses: 5,
        basePlanes: 8,
        backend,
      }),
  ],
];

// every backend with data: reference (the oracle) and native when the addon is built
for (const backend of loadableBackends().filter((b) => b.hasData)) {
  for (const [name, make] of cases) {
    describe(`PyTorch fixture ${name} on the ${backend.name} backend`, () => {
      const fx = loadSafetensors(join(FIXTURES, `${name}.safetensors`));
      it('has exactly the state-dict keys of PyTorch', () => {
        assert.deepEqual([...make(backend).stateDict().keys()], [...prefixed(fx, 'state.').keys()]);
      });
      it('train mode: output, label-smoothed loss, gradients, updated running stats', () =>
        checkPass(make(backend), fx, 'train', 0.1, backend));
      it('eval mode: output, loss, gradients, untouched running stats', () =>
        checkPass(make(backend), fx, 'eval', 0, backend));
    });
  }
}
