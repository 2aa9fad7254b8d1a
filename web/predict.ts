// Predict: a PyTorch checkpoint (.pth, zip or legacy) or .safetensors plus images → the top classes
// with probabilities and the time per image, computed in a worker; Cancel terminates it.
import { listBackends, listModels } from '../src/browser';
import { $, acceptDrops, fillBackends, setFiles, showError, showProgress, startWorker } from './dom';
import type { Job, Report } from './messages';

let worker: Worker | null = null;

function stop(): void {
  worker?.terminate();
  worker = null;
  $<HTMLButtonElement>('predict-run').disabled = false;
  $<HTMLButtonElement>('predict-cancel').disabled = true;
}

/** One image's result as a small table: rank, probability, class. */
function resultTable(
  image: string,
  top: { index: number; label: string; probability: number }[],
  ms: number,
): HTMLElement {
  const fig = document.createElement('figure');
  fig.className = 'prediction';
  const cap = document.createElement('figcaption');
  cap.textContent = `${image} — ${ms.toFixed(0)} ms`;
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th>#</th><th>probability</th><th>class</th><th>index</th></tr></thead>';
  const body = table.createTBody();
  for (const [j, t] of top.entries()) {
    const row = body.insertRow();
    for (const text of [String(j + 1), `${(100 * t.probability).toFixed(4)}%`, t.label, String(t.index)])
      row.insertCell().textContent = text;
    row.dataset.probability = String(t.probability);
  }
  fig.append(cap, table);
  return fig;
}

function run(e: Event): void {
  e.preventDefault();
  const weights = $<HTMLInputElement>('predict-weights').files?.[0];
  const images = [...($<HTMLInputElement>('predict-images').files ?? [])];
  try {
    if (!weights) throw new Error('Choose a weights file (.pth or .safetensors) first.');
    if (images.length === 0) throw new Error('Choose one or more images to classify.');
    const top = Number($<HTMLInputElement>('predict-top').value);
    if (!Number.isInteger(top) || top < 1) throw new Error('Top must be a whole number ≥ 1.');
    showError('predict-error', null);
    stop();
    $('predict-results').replaceChildren();
    $<HTMLButtonElement>('predict-run').disabled = true;
    $<HTMLButtonElement>('predict-cancel').disabled = false;
    worker = startWorker();
    worker.onmessage = (m: MessageEvent<Report>) => {
      const r = m.data;
      if (r.kind === 'progress') showProgress('predict', r.text, r.done, r.total);
      else if (r.kind === 'predicted') $('predict-results').append(resultTable(r.image, r.top, r.milliseconds));
      else if (r.kind === 'predict-done') {
        showProgress('predict', `${images.length} image(s) classified as ${r.model} on the ${r.backend} backend.`);
        $('predict-results').dataset.done = 'true';
        stop();
      } else if (r.kind === 'error') {
        showProgress('predict', '');
        showError('predict-error', new Error(r.message));
        stop();
      }
    };
    const job: Job = {
      kind: 'predict',
      model: $<HTMLSelectElement>('predict-model').value,
      weights,
      images,
      top,
      backend: $<HTMLSelectElement>('predict-backend').value,
    };
    worker.postMessage(job);
  } catch (err) {
    showError('predict-error', err);
  }
}

/** Fills the Predict form and wires its buttons. */
export function setupPredict(): void {
  const select = $<HTMLSelectElement>('predict-model');
  select.add(new Option('auto — the model the weights fit', 'auto'));
  for (const m of listModels()) select.add(new Option(m.name, m.name));
  fillBackends($<HTMLSelectElement>('predict-backend'), listBackends());
  $('predict-form').addEventListener('submit', run);
  // dropped files: a checkpoint (by its extension) becomes the weights, images the images
  acceptDrops($('predict'), (files) => {
    const isWeights = (f: File) => /\.(pth|pt|bin|ckpt|safetensors)$/i.test(f.name);
    const weights = files.filter(isWeights),
      images = files.filter((f) => !isWeights(f));
    if (weights.length) setFiles($<HTMLInputElement>('predict-weights'), weights.slice(0, 1));
    if (images.length) setFiles($<HTMLInputElement>('predict-images'), images);
  });
  $('predict-cancel').addEventListener('click', () => {
    stop();
    showProgress('predict', 'Cancelled.');
  });
}
