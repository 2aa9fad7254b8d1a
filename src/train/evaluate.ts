// Evaluation and the training step, wherever JavaScript runs: `resnext train`/`eval` in Node and
// the page's worker in browsers call the same code.
import { noGrad } from '../autograd/engine';
import type { Batches } from '../data/batches';
import type { ImageClassifier } from '../nn/classifier';
import { type InferenceOptions, prepareForInference } from '../nn/inference';
import * as F from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { ConfusionMatrix, topkHits } from './metrics';
import type { Optimizer } from './optim';
import { stepScope } from './step-scope';

/**
 * Evaluates a model on a dataset's batches: loss, top-1, top-5 and the confusion matrix (fused
 * inference planned with `inference`: its precision and int8 table).
 */
export async function evaluate(
  model: ImageClassifier,
  batches: Batches,
  numClasses: number,
  onProgress?: (imagesDone: number) => void | Promise<void>,
  inference: InferenceOptions = {},
): Promise<{ loss: number; top1: number; top5: number; confusion: ConfusionMatrix }> {
  prepareForInference(model, inference).eval();
  let loss = 0,
    top1 = 0,
    top5 = 0,
    seen = 0;
  const confusion = new ConfusionMatrix(numClasses);
  for await (const b of batches.epoch(0)) {
    stepScope(model, null, () =>
      noGrad(() => {
        const logits = model.call(b.x);
        loss += F.crossEntropy(logits, b.y, { reduction: 'sum' }).item();
        top1 += topkHits(logits, b.y, 1);
        top5 += topkHits(logits, b.y, Math.min(5, numClasses));
        confusion.add(logits, b.y);
      }),
    );
    seen += b.y.length;
    await onProgress?.(seen);
  }
  return { loss: loss / seen, top1: top1 / seen, top5: top5 / seen, confusion };
}

/**
 * One SGD/AdamW step on a batch (model in train mode): forward, cross-entropy, backward, update,
 * zeroed gradients. A non-finite loss stops before the update with `failure(loss)` as the message.
 */
export function trainStep(
  model: ImageClassifier,
  optimizer: Optimizer,
  x: Tensor,
  y: Int32Array,
  opts: { labelSmoothing: number; failure: (loss: number) => string },
): { loss: number; correct: number } {
  return stepScope(model, optimizer, () => {
    const logits = model.call(x);
    const lossTensor = F.crossEntropy(logits, y, { labelSmoothing: opts.labelSmoothing });
    const value = lossTensor.item();
    if (!Number.isFinite(value)) throw new Error(opts.failure(value));
    lossTensor.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return { loss: value, correct: topkHits(logits.detach(), y, 1) };
  });
}
