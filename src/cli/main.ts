// The `resnext` command: parses arguments with commander and dispatches to one file per subcommand.
import { Command, CommanderError } from 'commander';
import { registerConvParams } from './conv-params';
import { registerConvert } from './convert';
import { registerEval } from './eval';
import { registerExport } from './export';
import { registerForward } from './forward';
import { registerModels } from './models';
import { registerPaper } from './paper';
import { registerPredict } from './predict';
import { registerSummary } from './summary';
import { registerTrain } from './train';

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command('resnext')
    .description('ResNeXt and ResNet models in TypeScript: summaries, parameter arithmetic, the paper\'s tables')
    .version(require('../../../package.json').version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerSummary(program);
  registerModels(program);
  registerConvParams(program);
  registerPaper(program);
  registerConvert(program);
  registerForward(program);
  registerExport(program);
  registerPredict(program);
  registerTrain(program);
  registerEval(program);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Runs the CLI; usage errors exit with code 2. */
export async function main(argv: string[]): Promise<void> {
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
