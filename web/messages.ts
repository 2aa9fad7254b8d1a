// The messages between the page (app.ts) and its workers (worker.ts): one worker runs Predict, another
// Train, so either can be cancelled (terminated) without touching the other.
import type { RankedClass } from '../src/browser';

/** Page → worker. */
export type Job =
  | { kind: 'predict'; model: string; weights: File; images: File[]; top: number; backend: string }
  | {
      kind: 'train';
      /** The four idx files the user dropped in, or none for the shipped subset. */
      files: File[];
      epochs: number;
      batchSize: number;
      lr: number;
      augment: boolean;
      seed: number;
      backend: string;
    }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'weights' };

/** One training epoch's figures. */
export interface EpochFigures {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testTop1: number;
  seconds: number;
}

/** Worker → page. */
export type Report =
  | { kind: 'progress'; text: string; done: number; total: number }
  | { kind: 'predicted'; image: string; top: RankedClass[]; milliseconds: number }
  | { kind: 'predict-done'; model: string; backend: string }
  | { kind: 'data'; train: number; test: number; source: string }
  | { kind: 'step'; epoch: number; batch: number; batches: number; loss: number; acc: number; imagesPerSecond: number }
  | { kind: 'epoch'; figures: EpochFigures }
  | { kind: 'train-done' }
  | { kind: 'paused'; paused: boolean }
  | { kind: 'weights'; bytes: Uint8Array; name: string }
  | { kind: 'error'; message: string };
