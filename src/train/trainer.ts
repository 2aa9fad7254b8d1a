// The training loop: epochs of SGD/AdamW steps on a DataLoader, evaluation after each epoch,
// a JSONL log, curves, an atomic checkpoint per epoch, exact resume (same batches, same results),
// and a clean stop on SIGINT that saves where it stopped.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { datasetSize, subset, type DatasetSplits } from '../data/dataset';
import { DataLoader } from '../data/loader';
import { writeFileAtomic } from '../io/files';
import { isCount, isJsonObject, parseJsonStrict } from '../io/json';
import { saveSafetensors } from '../io/load-save';
import { usageMetadata } from '../io/usage';
import { getVariant } from '../models/registry';
import type { ModelVariant } from '../models/variants';
import { loadCheckpoint, saveCheckpoint, type RunState } from './checkpoint';
import { evaluate, trainStep } from './evaluate';
import { writeCurves, type EpochRecord } from './plot';
import { learningRate } from './schedule';
import { prepareRun, type RunRecipe } from './recipe';

/** Everything a run is configured by (the CLI's flags): the recipe, and where its data and model come from. */
export interface TrainConfig extends RunRecipe {
  /** A registered model, or the name of the variant passed as TrainOptions.variant. */
  model: string;
  data: string;
  /** Use N training / test images spread evenly over each split (0: all). */
  limitTrain: number;
  limitTest: number;
  /** Batches built ahead on a worker thread. */
  prefetch: number;
}

/** What the trainer reports as it goes (the CLI draws a progress bar from it). */
export interface TrainEvents {
  /** Once, before the first step: what is about to run. */
  start?(info: {
    model: string;
    parameters: number;
    trainImages: number;
    testImages: number;
    batchSize: number;
    stepsPerEpoch: number;
    epochs: number;
    backend: string;
  }): void;
  epochStart?(epoch: number, batches: number, startBatch: number): void;
  batchEnd?(info: {
    epoch: number;
    batch: number;
    batches: number;
    loss: number;
    acc: number;
    imagesPerSecond: number;
    lr: number;
  }): void;
  epochEnd?(record: EpochRecord & { testTop5: number; lr: number; seconds: number; imagesPerSecond: number }): void;
  message?(text: string): void;
}

/** Files a run writes in its output folder. */
export function runFiles(outDir: string) {
  return {
    checkpoint: join(outDir, 'checkpoint.safetensors'),
    weights: join(outDir, 'model.safetensors'),
    log: join(outDir, 'metrics.jsonl'),
    svg: join(outDir, 'curves.svg'),
    png: join(outDir, 'curves.png'),
  };
}

/** How a run starts: fresh (refusing an output folder that holds a run), resumed, or replacing the old run. */
export interface TrainOptions {
  /** Continue the run in the output folder exactly where it stopped. */
  resume: boolean;
  /** Start afresh in a folder that holds a previous run; its files are replaced only as the new run writes its own. */
  overwrite?: boolean;
  events?: TrainEvents;
  /** Polled after every step: true stops the run after that step, with a checkpoint. */
  shouldStop?: () => boolean;
  /** The architecture to train when `cfg.model` is not a registered model (an experiment's arm). */
  variant?: ModelVariant;
}

/** Refuses to start a fresh run over a previous one unless asked to. */
function checkFreshOutput(outDir: string, files: ReturnType<typeof runFiles>, opts: TrainOptions): void {
  if (opts.resume || opts.overwrite) return;
  const found = Object.values(files)
    .filter((f) => existsSync(f))
    .map((f) => basename(f));
  if (found.length) {
    throw new Error(
      `${outDir}: holds a previous run (${found.join(', ')}); continue it with --resume, ` +
        'replace it with --overwrite, or choose another --out',
    );
  }
}

/** The epoch records of a run's metrics.jsonl (none when it does not exist); a damaged line is an error naming it. */
export function readLog(path: string): EpochRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((line, i) => {
      const r = parseJsonStrict(line, `${path}: line ${i + 1}`);
      if (!isJsonObject(r) || !isCount(r.epoch)) throw new Error(`${path}: line ${i + 1} is not an epoch record`);
      return r as unknown as EpochRecord;
    });
}

/** Trains (or resumes) a run; resolves with the epoch records, or stops early when `shouldStop()` turns true. */
export async function train(
  cfg: TrainConfig,
  data: DatasetSplits,
  outDir: string,
  opts: TrainOptions,
): Promise<{ records: EpochRecord[]; stopped: boolean }> {
  const ev = opts.events ?? {};
  const files = runFiles(outDir);
  checkFreshOutput(outDir, files, opts);
  mkdirSync(outDir, { recursive: true });
  const trainSet = cfg.limitTrain ? subset(data.train, cfg.limitTrain) : data.train;
  const testSet = cfg.limitTest ? subset(data.test, cfg.limitTest) : data.test;
  const numClasses = data.train.classNames.length;
  const variant = opts.variant ?? getVariant(cfg.model);
  if (variant.name !== cfg.model)
    throw new Error(`train: the variant is '${variant.name}', the config names '${cfg.model}'`);
  const run = prepareRun(cfg, variant, trainSet);
  const { model, optimizer } = run;
  const named = model.namedParameters();
  const usage = usageMetadata(run.usage);
  const trainLoader = new DataLoader(trainSet, { ...run.trainBatches, prefetch: cfg.prefetch });
  const testLoader = new DataLoader(testSet, { ...run.testBatches, prefetch: 0 });
  const steps = trainLoader.numBatches();
  const schedule = run.schedule(steps);

  let state: RunState = {
    model: cfg.model,
    numClasses,
    data: cfg.data,
    epoch: 0,
    batch: 0,
    step: 0,
    partial: { loss: 0, correct: 0, seen: 0, seconds: 0 },
    config: { ...cfg },
    optimizer: optimizer.describe(),
  };
  const records: EpochRecord[] = [];
  if (opts.resume) {
    const ck = loadCheckpoint(files.checkpoint, { stepsPerEpoch: steps, epochs: cfg.epochs });
    if (ck.state.model !== cfg.model || ck.state.numClasses !== numClasses) {
      throw new Error(
        `${files.checkpoint}: checkpoint is for model '${ck.state.model}' with ${ck.state.numClasses} classes, not '${cfg.model}' with ${numClasses}`,
      );
    }
    if (ck.state.data !== cfg.data)
      throw new Error(`${files.checkpoint}: checkpoint trains on '${ck.state.data}', not '${cfg.data}'`);
    try {
      model.loadStateDict(ck.model);
      optimizer.loadStateTensors(ck.optimizer, ck.state.step);
    } catch (e) {
      throw new Error(`${files.checkpoint}: ${(e as Error).message}`);
    }
    state = ck.state;
    records.push(...readLog(files.log).filter((r) => r.epoch <= state.epoch));
    if (state.epoch >= cfg.epochs) {
      ev.message?.(
        `${outDir}: the run has finished all ${cfg.epochs} epochs; nothing to resume (raise --epochs to train longer)`,
      );
      return { records, stopped: false };
    }
    ev.message?.(`resuming ${cfg.model} at epoch ${state.epoch + 1}, batch ${state.batch} (step ${state.step})`);
  }
  ev.start?.({
    model: cfg.model,
    parameters: named.reduce((a, [, p]) => a + p.numel, 0),
    trainImages: datasetSize(trainSet),
    testImages: datasetSize(testSet),
    batchSize: cfg.batchSize,
    stepsPerEpoch: steps,
    epochs: cfg.epochs,
    backend: named[0][1].backend.name,
  });
  // the checkpoint first, then the log it agrees with: a run killed in between logs nothing twice;
  // a run started with --overwrite replaces the old run's files only from its first checkpoint on
  let savedOnce = false;
  const save = () => {
    saveCheckpoint(files.checkpoint, model.stateDict(), optimizer.stateTensors(), state, usage);
    writeFileAtomic(files.log, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    if (!savedOnce && !opts.resume) for (const f of [files.weights, files.svg, files.png]) rmSync(f, { force: true });
    savedOnce = true;
  };

  try {
    for (let epoch = state.epoch; epoch < cfg.epochs; epoch++) {
      model.train();
      ev.epochStart?.(epoch, steps, state.batch);
      let clock = Date.now();
      for await (const b of trainLoader.epoch(epoch, state.batch)) {
        optimizer.lr = learningRate(schedule, state.step);
        const { loss, correct } = trainStep(model, optimizer, b.x, b.y, {
          labelSmoothing: cfg.labelSmoothing,
          failure: (value) =>
            `training loss became ${value} at epoch ${epoch + 1}, batch ${b.index + 1} (step ${state.step + 1}); ` +
            `the weights were not updated — lower --lr (now ${optimizer.lr.toPrecision(3)}) or check the data; ` +
            (savedOnce || opts.resume
              ? `the last good checkpoint is ${files.checkpoint}`
              : 'no checkpoint was written'),
        });
        const now = Date.now();
        state.partial.seconds += (now - clock) / 1000;
        clock = now;
        state.partial.loss += loss * b.y.length;
        state.partial.correct += correct;
        state.partial.seen += b.y.length;
        state.step++;
        state.batch = b.index + 1;
        ev.batchEnd?.({
          epoch,
          batch: b.index + 1,
          batches: steps,
          loss: state.partial.loss / state.partial.seen,
          acc: state.partial.correct / state.partial.seen,
          imagesPerSecond: state.partial.seen / Math.max(state.partial.seconds, 1e-9),
          lr: optimizer.lr,
        });
        // a turn of the event loop per step, so a Ctrl-C is seen after this step even when batches are ready
        await new Promise((resolve) => setImmediate(resolve));
        if (opts.shouldStop?.()) {
          save();
          return { records, stopped: true };
        }
      }
      const test = await evaluate(model, testLoader, numClasses);
      const record = {
        epoch: epoch + 1,
        trainLoss: state.partial.loss / state.partial.seen,
        trainAcc: state.partial.correct / state.partial.seen,
        testLoss: test.loss,
        testTop1: test.top1,
        testTop5: test.top5,
        lr: optimizer.lr,
        seconds: state.partial.seconds,
        imagesPerSecond: state.partial.seen / Math.max(state.partial.seconds, 1e-9),
      };
      records.push(record);
      state = { ...state, epoch: epoch + 1, batch: 0, partial: { loss: 0, correct: 0, seen: 0, seconds: 0 } };
      save();
      saveSafetensors(files.weights, model.stateDict(), { format: 'pt', ...usage });
      await writeCurves(files.svg, files.png, records, `${cfg.model} on ${cfg.data}`);
      ev.epochEnd?.(record);
    }
  } finally {
    await trainLoader.close();
    await testLoader.close();
  }
  return { records, stopped: false };
}
