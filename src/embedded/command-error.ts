// A failed command as MongoDB reports it: `{ ok: 0, errmsg, code, codeName }`. Handlers throw
// it; the dispatcher turns it into the reply. Codes and names follow MongoDB's error_codes.yml
// so the driver raises the same MongoServerError it would against mongod.
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  CommandNotSupported: 115,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  InvalidPipelineOperator: 168,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
} as const;

// Errors MongoDB raises from a source location rather than a named code: codeName `Location<code>`.
export const LocationCodes = {
  DocumentTooLargeAfterUpdate: 17419,
  UnrecognizedPipelineStage: 40324,
  ChangeStreamNotSupported: 40573,
} as const;

const codeNames = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code, name]));

export class CommandError extends Error {
  readonly code: number;
  /** Extra reply fields MongoDB sends with some errors (e.g. keyPattern/keyValue on 11000). */
  readonly details: Record<string, unknown>;

  constructor(code: number, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }

  get codeName(): string {
    return codeNames.get(this.code) ?? `Location${this.code}`;
  }
}

export function commandErrorFrom(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return translateMingoError(message) ?? new CommandError(ErrorCodes.BadValue, message);
}

// mingo throws plain Errors whose messages name the operator; give them MongoDB's codes so
// callers can tell an unsupported operator from other failures.
function translateMingoError(message: string): CommandError | undefined {
  const stage = /unregistered pipeline operator (\$\w+)/.exec(message);
  if (stage) return new CommandError(LocationCodes.UnrecognizedPipelineStage, `Unrecognized pipeline stage name: '${stage[1]}'`);
  const topLevel = /unknown top level operator: (\$\w+)/.exec(message);
  if (topLevel) return new CommandError(ErrorCodes.BadValue, `unknown top level operator: ${topLevel[1]}`);
  const queryOp = /unknown query operator (\$\w+)/.exec(message);
  if (queryOp) return new CommandError(ErrorCodes.BadValue, `unknown operator: ${queryOp[1]}`);
  const accumulator = /accumulator '(\$\w+)' is not registered/.exec(message);
  if (accumulator) return new CommandError(ErrorCodes.InvalidPipelineOperator, `Unrecognized expression or accumulator '${accumulator[1]}'`);
  const expression = /(?:operator|expression) '?(\$\w+)'? (?:is not registered|not found)/i.exec(message);
  if (expression) return new CommandError(ErrorCodes.InvalidPipelineOperator, `Unrecognized expression '${expression[1]}'`);
  if (/immutable field '_id'/.test(message)) return new CommandError(ErrorCodes.ImmutableField, `Performing an update on the path '_id' would modify the immutable field '_id'`);
  const updateOp = /Unknown update operator: '(\$\w+)'/.exec(message);
  if (updateOp) return new CommandError(ErrorCodes.FailedToParse, `Unknown modifier: ${updateOp[1]}. Expected a valid update modifier or pipeline-style update specified as an array`);
  return undefined;
}
