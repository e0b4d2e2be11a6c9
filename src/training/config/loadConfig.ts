// Reads a lora-scripts-style YAML config file into a validated TrainConfig.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ConfigError } from '../trainingError.ts';
import { validateTrainConfig, type TrainConfig } from './trainConfig.ts';

export interface LoadedConfig {
  config: TrainConfig;
  /** The mapping exactly as parsed, before defaults and path resolution. */
  raw: Record<string, unknown>;
  file: string;
}

export function parseConfigText(text: string, file: string): LoadedConfig {
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: file });
  } catch (err) {
    throw new ConfigError([{ key: '(yaml)', value: path.basename(file), allowed: `the file must be valid YAML: ${(err as Error).message}` }], file);
  }
  const config = validateTrainConfig(raw, path.dirname(path.resolve(file)), file);
  return { config, raw: raw as Record<string, unknown>, file: path.resolve(file) };
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ key: '--config', value: file, allowed: `expected a readable YAML file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }], 'lora-registry train');
  }
  return parseConfigText(text, file);
}
