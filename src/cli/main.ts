// The `resnext` command: parses arguments with commander and dispatches to one file per subcommand.
import { Command, CommanderError } from 'commander';
import { nodeDefaultReason } from '../backend/node';
import { getDefaultBackend, setDefaultBackend } from '../backend/slot';
import { readEnvironment } from '../environment';
import { VERSION } from '../version';
import { parsePositiveInt } from './util';
import { registerBench } from './bench';
import { registerConvParams } from './conv-params';
import { registerConvert } from './convert';
import { registerDoctor } from './doctor';
import { registerEval } from './eval';
import { registerExperiment } from './experiment';
import { registerExport } from './export';
import { registerForward } from './forward';
import { registerInspect } from './inspect';
import { registerModels } from './models';
import { registerPaper } from './paper';
import { registerPredict } from './predict';
import { registerQuantize } from './quantize';
import { registerSummary } from './summary';
import { registerServe } from './serve';
import { registerTrain } from './train';

/** Commands that compute with real tensors (they warn once when running on the reference backend by necessity). */
const COMPUTE_COMMANDS = new Set(['forward', 'predict', 'train', 'eval', 'bench', 'export']);

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command('resnext')
    .description("ResNeXt and ResNet models in TypeScript: summaries, parameter arithmetic, the paper's tables")
    .version(VERSION)
    // every --help shows the global options, and defaults as plain values: (default: 3), not (default: "3")
    .configureHelp({
      showGlobalOptions: true,
      optionDescription: (option) => {
        const shown =
          option.defaultValueDescription ??
          (option.defaultValue === undefined || option.defaultValue === false
            ? undefined
            : String(option.defaultValue));
        return shown === undefined || shown === '' ? option.description : `${option.description} (default: ${shown})`;
      },
    })
    // commander's own errors in one line, named like ours: "resnext summary: unknown option '--bogus' (…)"
    .configureOutput({
      outputError: (text, write) =>
        write(`${text.trim().replace(/^error: /, `${program.name()}: `)} (run with --help for usage)\n`),
    })
    .option(
      '--backend <name>',
      'compute backend: native (default when its addon loads), wasm or reference; or set RESNEXT_BACKEND',
    )
    .option(
      '--threads <n>',
      'compute threads (native and wasm: default all cores, wasm at most 16; reference: one); or RESNEXT_THREADS',
    )
    .exitOverride();
  program.hook('preAction', (_root, command) => {
    const o = program.opts<{ backend?: string; threads?: string }>();
    const env = readEnvironment();
    try {
      if (o.backend) setDefaultBackend(o.backend);
      const compute = COMPUTE_COMMANDS.has(command.name());
      if (compute && !o.backend) {
        const reason = nodeDefaultReason();
        if (reason.why === 'native unavailable') {
          // wasm is the planned fallback (a note); reference, the slowest, only when wasm cannot run here
          const what = reason.name === 'wasm' ? 'note' : 'warning';
          process.stderr.write(
            `resnext: ${what}: the native backend is unavailable (${reason.detail.split('\n')[0]}); using the ${reason.name} backend\n`,
          );
        }
      }
      const threads = o.threads ?? env.threads;
      if (threads !== undefined) {
        const flag = o.threads !== undefined ? '--threads' : 'RESNEXT_THREADS';
        const n = parsePositiveInt(flag, threads);
        const backend = getDefaultBackend();
        const why = `the ${backend.name} backend has no thread setting (it runs on one thread)`;
        if (backend.threads) backend.threads.set(n);
        else if (o.threads !== undefined) throw new Error(`--threads ${n}: ${why}`);
        else process.stderr.write(`resnext: warning: RESNEXT_THREADS=${n} is ignored: ${why}\n`);
      } else if (compute) {
        getDefaultBackend(); // a bad RESNEXT_BACKEND is reported here, before the command starts
      }
    } catch (e) {
      process.stderr.write(`resnext: ${(e as Error).message}\n`);
      process.exit(2);
    }
  });
  registerSummary(program);
  registerModels(program);
  registerConvParams(program);
  registerPaper(program);
  registerConvert(program);
  registerInspect(program);
  registerForward(program);
  registerExport(program);
  registerPredict(program);
  registerTrain(program);
  registerEval(program);
  registerQuantize(program);
  registerExperiment(program);
  registerDoctor(program);
  registerServe(program);
  registerBench(program);
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({
      outputError: (text, write) =>
        write(`resnext ${cmd.name()}: ${text.trim().replace(/^error: /, '')} (run with --help for usage)\n`),
    });
  }
  return program;
}

/** Runs the CLI; usage errors exit with code 2. */
export async function main(argv: string[]): Promise<void> {
  // output piped into `head` and the like: a closed pipe ends the command quietly, as in other CLIs
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and --version exit 0; any other commander error is a usage error (message already printed)
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    throw e;
  }
}
