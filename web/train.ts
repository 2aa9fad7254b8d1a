// Train: resnext_small on Fashion-MNIST in a worker (the shipped 2,000/500 subset, or the four
// official idx files the user gives) with live loss and accuracy curves, pause/resume, stop, and
// the weights as the .safetensors `resnext eval` and PyTorch read.
import { listBackends } from '../src/browser';
import { $, acceptDrops, fillBackends, n, setFiles, showError, showProgress, startWorker } from './dom';
import type { EpochFigures, Job, Report } from './messages';

let worker: Worker | null = null;
let losses: number[] = [];
let epochs: EpochFigures[] = [];
let stepsPerEpoch = 1;
/** Stop pauses the worker for good (its weights stay downloadable); a later 'paused' report must not say otherwise. */
let stopped = false;

const button = (id: string) => $<HTMLButtonElement>(id);

function setRunning(running: boolean): void {
  button('train-start').disabled = running;
  button('train-pause').disabled = !running;
  button('train-stop').disabled = !running;
}

/** Training loss per step (line) and test accuracy per epoch (dots, right axis), as an SVG. */
function chart(): string {
  const w = 640,
    h = 240,
    left = 46,
    right = 46,
    top = 16,
    bottom = 30;
  const steps = Math.max(losses.length, stepsPerEpoch, 1);
  const maxLoss = Math.max(2.5, ...losses.filter(Number.isFinite));
  const x = (s: number) => left + ((w - left - right) * s) / steps;
  const yLoss = (v: number) => top + (h - top - bottom) * (1 - Math.min(v, maxLoss) / maxLoss);
  const yAcc = (a: number) => top + (h - top - bottom) * (1 - a);
  const path = losses.map((v, i) => `${i ? 'L' : 'M'}${x(i + 1).toFixed(1)} ${yLoss(v).toFixed(1)}`).join('');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" role="img" aria-label="training curves">`,
    `<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" stroke="#888"/>`,
    `<text x="${left - 6}" y="${yLoss(maxLoss) + 4}" font-size="11" text-anchor="end">${maxLoss.toFixed(1)}</text>`,
    `<text x="${left - 6}" y="${h - bottom}" font-size="11" text-anchor="end">0</text>`,
    `<text x="${left}" y="11" font-size="11" fill="#3182bd">training loss (per step)</text>`,
    `<text x="${w - right}" y="11" font-size="11" fill="#e6550d" text-anchor="end">test accuracy (per epoch)</text>`,
    `<text x="${w - right + 6}" y="${yAcc(1) + 4}" font-size="11">100%</text>`,
    `<text x="${w - right + 6}" y="${yAcc(0.5) + 4}" font-size="11">50%</text>`,
    `<text x="${(left + w - right) / 2}" y="${h - 8}" font-size="11" text-anchor="middle">step</text>`,
    `<path d="${path}" stroke="#3182bd" fill="none" stroke-width="1.5"/>`,
  ];
  for (const e of epochs) {
    const cx = x(e.epoch * stepsPerEpoch),
      cy = yAcc(e.testTop1);
    parts.push(
      `<circle cx="${cx}" cy="${cy}" r="4" fill="#e6550d"/>`,
      `<text x="${cx - 6}" y="${cy - 8}" font-size="11" text-anchor="end">${(100 * e.testTop1).toFixed(1)}%</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

function epochTable(): void {
  const body = $<HTMLTableElement>('train-table').tBodies[0];
  body.replaceChildren();
  for (const e of epochs) {
    const row = body.insertRow();
    for (const text of [
      String(e.epoch),
      e.trainLoss.toFixed(4),
      `${(100 * e.trainAcc).toFixed(2)}%`,
      e.testLoss.toFixed(4),
      `${(100 * e.testTop1).toFixed(2)}%`,
      `${e.seconds.toFixed(1)} s`,
    ])
      row.insertCell().textContent = text;
    row.dataset.testTop1 = String(e.testTop1);
  }
}

/** Reads the form into a job, or throws naming the field. */
function readJob(): Extract<Job, { kind: 'train' }> {
  const int = (id: string, label: string, min: number) => {
    const v = Number($<HTMLInputElement>(id).value);
    if (!Number.isInteger(v) || v < min) throw new Error(`${label} must be a whole number ≥ ${min}.`);
    return v;
  };
  const lr = Number($<HTMLInputElement>('train-lr').value);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error('Learning rate must be a positive number.');
  const own = $<HTMLInputElement>('train-source-files').checked;
  const files = own ? [...($<HTMLInputElement>('train-files').files ?? [])] : [];
  if (own && files.length !== 4) {
    throw new Error(`Give the four idx files (train/t10k images and labels, .gz); ${files.length} chosen.`);
  }
  return {
    kind: 'train',
    files,
    epochs: int('train-epochs', 'Epochs', 1),
    batchSize: int('train-batch', 'Batch size', 1),
    lr,
    augment: $<HTMLInputElement>('train-augment').checked,
    seed: int('train-seed', 'Seed', 0),
    backend: $<HTMLSelectElement>('train-backend').value,
  };
}

/** The `resnext train` command that trains the same way. */
function cliCommand(): void {
  try {
    const j = readJob();
    const dir = j.files.length ? '<folder of your four files>' : 'web/data/fashion-mnist';
    $('train-command').textContent =
      `resnext --backend ${j.backend} train resnext_small --data fashion-mnist:${dir} --epochs ${j.epochs} ` +
      `--batch-size ${j.batchSize} --lr ${j.lr} --seed ${j.seed}${j.augment ? '' : ' --no-augment'}`;
  } catch {
    $('train-command').textContent = '';
  }
}

function start(e: Event): void {
  e.preventDefault();
  try {
    const job = readJob();
    showError('train-error', null);
    worker?.terminate();
    losses = [];
    epochs = [];
    epochTable();
    $('train-chart').innerHTML = chart();
    button('train-download').disabled = false;
    button('train-pause').textContent = 'Pause';
    delete $('train-table').dataset.done;
    stopped = false;
    setRunning(true);
    worker = startWorker();
    worker.onmessage = (m: MessageEvent<Report>) => report(m.data);
    worker.postMessage(job);
  } catch (err) {
    showError('train-error', err);
  }
}

function report(r: Report): void {
  if (r.kind === 'progress') showProgress('train', r.text, r.done, r.total);
  else if (r.kind === 'data') {
    showProgress('train', `${n(r.train)} training and ${n(r.test)} test images (${r.source})`);
  } else if (r.kind === 'step') {
    stepsPerEpoch = r.batches;
    losses.push(r.loss);
    showProgress(
      'train',
      `epoch ${r.epoch}, batch ${r.batch}/${r.batches}: loss ${r.loss.toFixed(4)}, ` +
        `accuracy so far ${(100 * r.acc).toFixed(1)}%, ${r.imagesPerSecond.toFixed(1)} images/s`,
      r.batch,
      r.batches,
    );
    if (r.batch % 4 === 0 || r.batch === r.batches) $('train-chart').innerHTML = chart();
  } else if (r.kind === 'epoch') {
    epochs.push(r.figures);
    epochTable();
    $('train-chart').innerHTML = chart();
  } else if (r.kind === 'train-done') {
    const last = epochs[epochs.length - 1];
    showProgress('train', `Done: test accuracy ${(100 * last.testTop1).toFixed(2)}% after ${last.epoch} epoch(s).`);
    $('train-table').dataset.done = 'true';
    setRunning(false);
  } else if (r.kind === 'paused') {
    if (stopped) return;
    button('train-pause').textContent = r.paused ? 'Resume' : 'Pause';
    if (r.paused) showProgress('train', 'Paused.');
  } else if (r.kind === 'weights') {
    const url = URL.createObjectURL(
      new Blob([r.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
    );
    const a = document.createElement('a');
    a.href = url;
    a.download = r.name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } else if (r.kind === 'error') {
    showError('train-error', new Error(r.message));
    setRunning(false);
  }
}

/** Wires the Train form. */
export function setupTrain(): void {
  fillBackends($<HTMLSelectElement>('train-backend'), listBackends());
  $('train-form').addEventListener('submit', start);
  $('train-form').addEventListener('input', cliCommand);
  acceptDrops($('train'), (files) => {
    setFiles($<HTMLInputElement>('train-files'), files);
    $<HTMLInputElement>('train-source-files').checked = true;
    cliCommand();
  });
  $('train-files').addEventListener('change', () => {
    $<HTMLInputElement>('train-source-files').checked = true;
    cliCommand();
  });
  button('train-pause').addEventListener('click', () => {
    const pausing = button('train-pause').textContent === 'Pause';
    worker?.postMessage({ kind: pausing ? 'pause' : 'resume' } satisfies Job);
  });
  button('train-stop').addEventListener('click', () => {
    // the weights trained so far stay downloadable: the worker is paused, not terminated
    stopped = true;
    worker?.postMessage({ kind: 'pause' } satisfies Job);
    setRunning(false);
    showProgress('train', 'Stopped; the weights trained so far can still be downloaded.');
  });
  button('train-download').addEventListener('click', () => {
    if (!worker) return showError('train-error', new Error('Train first: there are no weights yet.'));
    worker.postMessage({ kind: 'weights' } satisfies Job);
  });
  $('train-chart').innerHTML = chart();
  cliCommand();
}
