// GPT-2 hyper-parameters, read from a Hugging Face `config.json` (GPT2Config keys).

export interface GPT2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEpsilon: number;
}

function positiveInteger(json: Record<string, unknown>, key: string): number {
  const value = json[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`config.json: "${key}" is ${JSON.stringify(value)}; it must be a positive integer`);
  }
  return value;
}

/** Reads `vocab_size`, `n_positions`, `n_embd`, `n_layer`, `n_head`, `layer_norm_epsilon` (default 1e-5, as HF). */
export function gpt2ConfigFromHF(json: Record<string, unknown>): GPT2Config {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`config.json: expected a JSON object, got ${JSON.stringify(json)}`);
  }
  const modelType = json.model_type;
  if (modelType !== undefined && modelType !== 'gpt2') {
    throw new Error(`config.json: "model_type" is ${JSON.stringify(modelType)}; only "gpt2" is supported`);
  }
  const config: GPT2Config = {
    vocabSize: positiveInteger(json, 'vocab_size'),
    nPositions: positiveInteger(json, 'n_positions'),
    nEmbd: positiveInteger(json, 'n_embd'),
    nLayer: positiveInteger(json, 'n_layer'),
    nHead: positiveInteger(json, 'n_head'),
    layerNormEpsilon: 1e-5,
  };
  if (json.layer_norm_epsilon !== undefined) {
    const eps = json.layer_norm_epsilon;
    if (typeof eps !== 'number' || !(eps > 0)) {
      throw new Error(`config.json: "layer_norm_epsilon" is ${JSON.stringify(eps)}; it must be a positive number`);
    }
    config.layerNormEpsilon = eps;
  }
  if (config.nEmbd % config.nHead !== 0) {
    throw new Error(`config.json: "n_embd" (${config.nEmbd}) must be divisible by "n_head" (${config.nHead})`);
  }
  const inner = json.n_inner;
  if (inner !== undefined && inner !== null && inner !== 4 * config.nEmbd) {
    throw new Error(`config.json: "n_inner" is ${JSON.stringify(inner)}; only null or 4 * n_embd (${4 * config.nEmbd}) is supported`);
  }
  const activation = json.activation_function;
  if (activation !== undefined && activation !== 'gelu_new') {
    throw new Error(`config.json: "activation_function" is ${JSON.stringify(activation)}; only "gelu_new" (GPT-2's tanh GELU) is supported`);
  }
  return config;
}
