// `resnext doctor`: which backend is active, oneDNN's version, ISA and threads, and why the native
// backend is unavailable when it is.
import type { Command } from 'commander';
import { loadableBackends, nativeStatus } from '../backend/node';
import { getDefaultBackend } from '../backend/slot';
import { readEnvironment } from '../environment';
import type { DoctorJson } from './json-output';
import { guarded, printJson } from './util';

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
            ? `native: oneDNN ${native.oneDNN}, ISA ${native.isa}, ${native.threads} thread(s)`
            : `native: unavailable — ${native.reason}`,
        );
        lines.push(`node ${report.node}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
