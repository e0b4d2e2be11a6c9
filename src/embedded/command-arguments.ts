// Reading command arguments with MongoDB's type errors: the field, the value, what is allowed.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './command-error.ts';
import { validateCollectionName } from './catalog.ts';

export function collectionArgument(body: Document, command: string): string {
  const name = body[command];
  if (typeof name !== 'string') {
    throw new CommandError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${name === null ? 'null' : typeof name}: the '${command}' field must name a collection`);
  }
  return validateCollectionName(name);
}

export function optionalDocument(body: Document, field: string): Document | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CommandError(ErrorCodes.TypeMismatch, `BSON field '${field}' is the wrong type '${Array.isArray(value) ? 'array' : typeof value}', expected type 'object'`);
  }
  return value as Document;
}

export function optionalNumber(body: Document, field: string, { min = -Infinity } = {}): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new CommandError(ErrorCodes.TypeMismatch, `BSON field '${field}' is the wrong type '${typeof value}', expected a number`);
  if (n < min) throw new CommandError(ErrorCodes.BadValue, `BSON field '${field}' value must be >= ${min}, actual value '${n}'`);
  return Math.trunc(n);
}

export function optionalArray(body: Document, field: string): unknown[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new CommandError(ErrorCodes.TypeMismatch, `BSON field '${field}' is the wrong type '${typeof value}', expected type 'array'`);
  return value;
}
