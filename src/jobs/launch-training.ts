// launchTraining: validates the config with the trainer's own validator (the CLI's rules),
// records the experiment QUEUED, writes the config the child will run into the run's job
// directory, and hands the run to the job runner. Config problems come back as
// InvalidInputErrors whose field is the path of the bad key in the caller's input.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { ObjectId } from 'mongodb';
import type { ExperimentDoc, LoraConfigDoc } from '../store/documents.ts';
import { InvalidInputError } from '../store/errors.ts';
import { hashConfig } from '../store/config-hash.ts';
import type { ProjectScope } from '../store/scope.ts';
import type { Store } from '../store/store.ts';
import { validateTrainConfig } from '../training/config/trainConfig.ts';
import { ConfigError, formatConfigIssue } from '../training/trainingError.ts';
import { resolveExternalRunner } from './external-runners.ts';
import type { JobRunner } from './job-runner.ts';
import type { JobExperimentDoc } from './run-records.ts';
import { expiresAtFromTtlDays } from '../analytics/retention-policy.ts';

export interface LaunchRequest {
  name: string;
  project: string;
  tags: string[];
  notes?: string | null;
  configYaml?: string | null;
  /** A typed config already in stored (snake_case) form, with its input field names. */
  config?: { stored: LoraConfigDoc; fieldOf: (key: string) => string } | null;
  externalCommand?: string | null;
  logOnly?: boolean | null;
  /** Retention in days (analytics): becomes the experiment's expiresAt. */
  ttlDays?: number | null;
}

/** Config keys naming files the run reads: they must exist when the run is launched. */
const INPUT_PATH_KEYS = ['base_model', 'train_data_dir', 'init_adapter'] as const;
/** Stands in for output_dir while validating, when the run's own directory will be used. */
const PENDING_OUTPUT_DIR = '.pending-run-directory';

interface ParsedConfig {
  raw: Record<string, unknown>;
  /** The input path of a config key, e.g. ["input", "configYaml", "lora_rank"]. */
  pathOf: (key: string) => (string | number)[];
}

function parseGivenConfig(req: LaunchRequest): ParsedConfig | null {
  if (req.configYaml != null && req.config != null) {
    throw new InvalidInputError(['input', 'config'], 'input: give the config either as configYaml or as config, not both.');
  }
  if (req.configYaml != null) {
    let raw: unknown;
    try {
      raw = yaml.load(req.configYaml);
    } catch (err) {
      throw new InvalidInputError(['input', 'configYaml'], `input.configYaml is not valid YAML: ${(err as Error).message}`);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new InvalidInputError(['input', 'configYaml'], `input.configYaml must be a mapping of config keys (lora-scripts style), got ${JSON.stringify(raw)}.`);
    }
    return { raw: raw as Record<string, unknown>, pathOf: (key) => ['input', 'configYaml', key] };
  }
  if (req.config != null) {
    const fieldOf = req.config.fieldOf;
    return { raw: { ...req.config.stored }, pathOf: (key) => ['input', 'config', fieldOf(key)] };
  }
  return null;
}

/** Runs the trainer's validator; its issues become one InvalidInputError naming every bad key. */
function validateForTrainer(parsed: ParsedConfig, baseDir: string): LoraConfigDoc {
  const raw = { ...parsed.raw };
  if (raw.output_dir == null) raw.output_dir = PENDING_OUTPUT_DIR;
  let config: LoraConfigDoc;
  try {
    config = validateTrainConfig(raw, baseDir, 'input config') as unknown as LoraConfigDoc;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const first = err.issues[0]!;
    const message = err.issues.map((i) => `${parsed.pathOf(i.key).join('.')}: ${formatConfigIssue(i)}`).join('\n');
    throw new InvalidInputError(parsed.pathOf(first.key), message);
  }
  for (const key of INPUT_PATH_KEYS) {
    const value = config[key];
    if (typeof value === 'string' && !existsSync(value)) {
      throw new InvalidInputError(parsed.pathOf(key), `${parsed.pathOf(key).join('.')}: ${JSON.stringify(parsed.raw[key])} does not exist (resolved to ${value}); expected an existing path on the server.`);
    }
  }
  return config;
}

export async function launchTraining(
  deps: { store: Store; runner: JobRunner; baseDir: string },
  scope: ProjectScope,
  req: LaunchRequest,
): Promise<JobExperimentDoc> {
  const parsed = parseGivenConfig(req);
  const external = req.externalCommand != null ? resolveExternalRunner(deps.runner.externalRunners, req.externalCommand, ['input', 'externalCommand']) : null;
  const logOnly = req.logOnly === true;
  if (external && logOnly) throw new InvalidInputError(['input', 'logOnly'], 'input: a logOnly run cannot also name an externalCommand.');
  let config: LoraConfigDoc;
  if (!external && !logOnly) {
    if (!parsed) throw new InvalidInputError(['input', 'configYaml'], 'input: the built-in trainer needs a config: give configYaml (YAML text) or config (typed).');
    config = validateForTrainer(parsed, deps.baseDir);
  } else {
    config = parsed ? { ...parsed.raw } : {};
  }
  const expiresAt = expiresAtFromTtlDays(req.ttlDays, new Date(), ['input', 'ttlDays']);
  const created: ExperimentDoc = await deps.store.experiments.create(scope, {
    name: req.name,
    project: req.project,
    tags: req.tags,
    notes: req.notes ?? null,
    status: logOnly ? 'RUNNING' : 'QUEUED',
    config,
    rawConfig: parsed?.raw ?? {},
    runner: external ? 'external' : logOnly ? 'logged' : 'builtin',
    startedAt: logOnly ? new Date() : null,
    checkpoints: [],
    artifacts: [],
  });
  const id = created._id.toHexString();
  const paths = deps.runner.pathsOf(id);
  const set: Partial<JobExperimentDoc> = { statusHistory: [{ status: created.status, at: created.createdAt }] };
  if (expiresAt) set.expiresAt = expiresAt;
  if (!logOnly) {
    // The experiment id names the run's directory, unless the config chose one.
    if (config.output_dir == null || config.output_dir.endsWith(PENDING_OUTPUT_DIR)) config.output_dir = paths.runDir;
    set.config = config;
    set.configHash = hashConfig(config);
    set.outputDir = config.output_dir;
    if (external) set.externalCommand = external.name;
    mkdirSync(paths.jobDir, { recursive: true });
    writeFileSync(paths.configFile, `# experiment ${id} (${req.project}/${req.name})\n${yaml.dump(config, { lineWidth: -1 })}`);
  }
  await deps.runner.records.setFields(new ObjectId(id), set);
  const doc = { ...created, ...set } as JobExperimentDoc;
  if (!logOnly) await deps.runner.submit(id);
  return doc;
}
