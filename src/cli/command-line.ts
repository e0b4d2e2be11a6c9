// The command line of one CLI command: its options parsed strictly, with the same answers
// everywhere for what is not an action: a bad option prints the message and the usage and
// exits 2; --help / -h prints the usage and exits 0.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type WithHelp<T extends OptionsConfig> = T & { help: { type: 'boolean'; short: 'h' } };
type ParsedValues<T extends OptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: WithHelp<T>; strict: true }>>['values'];

/**
 * The parsed option values, or the exit code when the command should stop here (usage
 * printed). `label` starts the error line (e.g. "lora-registry serve"); without one the
 * message stands alone.
 */
export function parseCommandLine<T extends OptionsConfig>(argv: string[], options: T, usage: string, label?: string): ParsedValues<T> | number {
  let values: ParsedValues<T>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<T>, strict: true }));
  } catch (err) {
    console.error(`${label ? `${label}: ` : ''}${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  return values;
}
