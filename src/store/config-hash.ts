// The config hash: sha256 of the normalized config serialized with sorted keys, so the
// same settings written in a different key order hash the same. It is the one definition
// of "the same config": the registry stores it on every experiment and the trainer checks
// it before resuming a checkpoint, so a run launched through the API and the checkpoints it
// writes carry the same hash.
import { createHash } from 'node:crypto';
import type { LoraConfigDoc } from './documents.ts';

/**
 * Keys that do not change what a run computes (where it writes, how often it logs, how many
 * threads it uses, its labels): two runs that differ only in these have the same config.
 */
export const RESULT_NEUTRAL_CONFIG_KEYS: readonly string[] = [
  'tags',
  'threads',
  'device',
  'output_dir',
  'save_total_limit',
  'log_steps',
  'save_merged',
];

export function hashConfig(config: LoraConfigDoc): string {
  const significant = Object.fromEntries(
    Object.entries(config).filter(([key]) => !RESULT_NEUTRAL_CONFIG_KEYS.includes(key)),
  );
  return createHash('sha256').update(canonicalJson(significant)).digest('hex');
}

/** JSON with object keys sorted at every level and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
