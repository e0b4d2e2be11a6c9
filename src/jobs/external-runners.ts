// The allow-list of external training commands (kohya sd-scripts, PEFT scripts, ...), read
// from the server config's `externalRunners` section. A run names an entry; the server
// runs exactly that argv array (never through a shell), with placeholders filled in by the
// server, never by the caller:
//
//   externalRunners:
//     kohya-sdxl:
//       argv: ["python", "sdxl_train_network.py", "--config_file", "{configPath}", "--output_dir", "{outputDir}"]
//       description: kohya sd-scripts SDXL LoRA
//
// Placeholders: {node} (this Node binary), {experimentId}, {runDir}, {outputDir}, {configPath}.
import { InvalidInputError } from '../store/errors.ts';

export interface ExternalRunner {
  name: string;
  argv: string[];
  description: string | null;
}

export type ExternalRunnerAllowList = ReadonlyMap<string, ExternalRunner>;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PLACEHOLDERS = ['node', 'experimentId', 'runDir', 'outputDir', 'configPath'] as const;
export type RunPlaceholders = Record<(typeof PLACEHOLDERS)[number], string>;

/** Validates the `externalRunners` section of the server config (absent: no external runners). */
export function parseExternalRunners(section: unknown, where = 'externalRunners'): ExternalRunnerAllowList {
  const list = new Map<string, ExternalRunner>();
  if (section === undefined || section === null) return list;
  if (typeof section !== 'object' || Array.isArray(section)) {
    throw new Error(`${where}: expected a mapping of runner names to { argv: [...] }, got ${JSON.stringify(section)}.`);
  }
  for (const [name, entry] of Object.entries(section as Record<string, unknown>)) {
    if (!NAME_PATTERN.test(name)) throw new Error(`${where}.${name}: runner names are 1-64 letters, digits, '.', '_' or '-'.`);
    const e = (entry ?? {}) as { argv?: unknown; description?: unknown };
    if (!Array.isArray(e.argv) || e.argv.length === 0 || !e.argv.every((a) => typeof a === 'string' && a.length > 0)) {
      throw new Error(`${where}.${name}.argv: expected a non-empty array of non-empty strings (the program and its arguments; no shell is used), got ${JSON.stringify(e.argv)}.`);
    }
    for (const arg of e.argv as string[]) {
      for (const m of arg.matchAll(/\{([^}]*)\}/g)) {
        if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
          throw new Error(`${where}.${name}.argv: unknown placeholder {${m[1]}}; allowed: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}.`);
        }
      }
    }
    list.set(name, { name, argv: [...(e.argv as string[])], description: typeof e.description === 'string' ? e.description : null });
  }
  return list;
}

export function resolveExternalRunner(list: ExternalRunnerAllowList, name: string, field: (string | number)[]): ExternalRunner {
  const runner = list.get(name);
  if (!runner) {
    const known = [...list.keys()];
    throw new InvalidInputError(
      field,
      `${field.join('.')}: "${name}" is not an allow-listed external command; ${known.length ? `allowed: ${known.join(', ')}` : 'the server config allows none (section externalRunners)'}.`,
    );
  }
  return runner;
}

export function externalRunnerArgv(runner: ExternalRunner, values: RunPlaceholders): string[] {
  return runner.argv.map((arg) => arg.replace(/\{([^}]*)\}/g, (_, name: keyof RunPlaceholders) => values[name]));
}
