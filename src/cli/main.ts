// `lora-registry <command> [...args]`: each subcommand lives in src/cli/commands/<name>.ts
// and exports `run(argv: string[]): Promise<number | void>` plus a one-line `summary`.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const commandsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'commands');

interface CommandModule {
  summary: string;
  run(argv: string[]): Promise<number | void>;
}

function availableCommands(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function loadCommand(name: string): Promise<CommandModule> {
  return (await import(pathToFileURL(path.join(commandsDir, `${name}.ts`)).href)) as CommandModule;
}

async function printUsage(): Promise<void> {
  const lines = ['Usage: lora-registry <command> [options]', '', 'Commands:'];
  const names = availableCommands();
  const width = Math.max(...names.map((n) => n.length)) + 2;
  for (const name of names) {
    const mod = await loadCommand(name);
    lines.push(`  ${name.padEnd(width)}${mod.summary}`);
  }
  lines.push('', 'Run `lora-registry <command> --help` for the options of one command.');
  console.log(lines.join('\n'));
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    await printUsage();
    return name ? 0 : 1;
  }
  const commands = availableCommands();
  if (!commands.includes(name)) {
    console.error(`lora-registry: unknown command "${name}". Known commands: ${commands.join(', ')}.`);
    return 2;
  }
  const mod = await loadCommand(name);
  const code = await mod.run(rest);
  return typeof code === 'number' ? code : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
