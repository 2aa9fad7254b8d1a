// `resnext doctor`: which backend is active, oneDNN's version, ISA and threads, the wasm backend's
// SIMD and threads, and why the native backend is unavailable when it is.
import type { Command } from 'commander';
import { loadableBackends, nativeStatus } from '../backend/node';
import { getDefaultBackend } from '../backend/slot';
import { wasmThreadStatus, wasmThreads, wasmUnavailableReason } from '../backend/wasm';
import { readEnvironment } from '../environment';
import type { DoctorJson } from './json-output';
import { guarded, printJson } from './util';

/** Whether the wasm module compiles here (it needs WebAssembly SIMD) and its threads. */
function wasmReport(): DoctorJson['wasm'] {
  const reason = wasmUnavailableReason();
  if (reason !== null) return { available: false, reason };
  const t = wasmThreadStatus();
  return {
    available: true,
    reason: '',
    threads: wasmThreads(),
    threadsAvailable: t.available,
    threadsReason: t.reason,
  };
}

/** Registers the doctor command. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'show the active compute backend, oneDNN version, CPU ISA and threads, or why the native backend is unavailable',
    )
    .option('--json', 'print as JSON')
    .action(
      guarded('doctor', (o: { json?: boolean }) => {
        const native = nativeStatus();
        const env = readEnvironment();
        const report: DoctorJson = {
          activeBackend: getDefaultBackend().name,
          backends: loadableBackends().map((b) => b.name),
          native,
          wasm: wasmReport(),
          node: process.version,
          env: {
            RESNEXT_BACKEND: env.backend ?? null,
            RESNEXT_THREADS: env.threads ?? null,
            OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? null,
          },
        };
        if (o.json) {
          printJson(report);
          return;
        }
        const lines = [`active backend: ${report.activeBackend}`, `available backends: ${report.backends.join(', ')}`];
        lines.push(
          native.available
            ? `native: oneDNN ${native.oneDNN}, ISA ${native.isa}, ${native.threads} thread(s); ` +
                `our grouped 3x3 kernels: ${native.groupedKernels?.join(', ') || 'none (no AVX-512)'}`
            : `native: unavailable — ${native.reason}`,
        );
        const w = report.wasm;
        const how = w.threadsAvailable ? 'shared memory, worker_threads' : `one thread only: ${w.threadsReason}`;
        const wasmLine = `wasm: SIMD128, ${w.threads} thread(s) (${how})`;
        lines.push(w.available ? wasmLine : `wasm: unavailable — ${w.reason}`);
        lines.push(`node ${report.node}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
