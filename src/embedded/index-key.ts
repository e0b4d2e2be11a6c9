// Index keys: each indexed value becomes a string that two values share exactly when MongoDB
// calls them equal (1 and 1.0 alike, field order significant in embedded documents), so a
// JavaScript Map can serve as the index.
import type { Document } from 'bson';

interface BsonValue {
  _bsontype: string;
}

function isBsonValue(value: object): value is BsonValue {
  return typeof (value as BsonValue)._bsontype === 'string';
}

export function encodeIndexValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return `n${Object.is(value, -0) ? 0 : value}`;
    case 'string':
      return `s${value}`;
    case 'boolean':
      return value ? 'b1' : 'b0';
    case 'bigint':
      return `n${value}`;
    case 'undefined':
      return 'z';
    case 'object':
      if (value === null) return 'z';
      if (value instanceof Date) return `D${value.getTime()}`;
      if (value instanceof RegExp) return `r${value.source}/${value.flags}`;
      if (Array.isArray(value)) return `[${value.map(encodeIndexValue).join(',')}]`;
      if (isBsonValue(value)) return encodeBsonValue(value);
      return `{${Object.keys(value)
        .map((k) => `${JSON.stringify(k)}:${encodeIndexValue((value as Document)[k])}`)
        .join(',')}}`;
    default:
      return `?${String(value)}`;
  }
}

function encodeBsonValue(value: BsonValue): string {
  switch (value._bsontype) {
    case 'ObjectId':
      return `o${(value as unknown as { toHexString(): string }).toHexString()}`;
    case 'Binary':
      return `B${(value as unknown as { sub_type: number }).sub_type}:${(value as unknown as { toString(enc: string): string }).toString('base64')}`;
    case 'Long':
    case 'Int32':
    case 'Double':
      return `n${String(value)}`;
    default:
      return `${value._bsontype}:${JSON.stringify(value)}`;
  }
}

/**
 * The values a document holds at a dotted path, as an index sees them: arrays along the way
 * are descended (a multikey index holds one key per element), a missing field is null.
 */
export function valuesAtPath(doc: unknown, path: string, { missing = 'null' }: { missing?: 'null' | 'skip' } = {}): unknown[] {
  const out: unknown[] = [];
  collect(doc, path.split('.'), 0, out, missing === 'null');
  if (out.length === 0 && missing === 'null') out.push(null);
  return out;
}

function collect(value: unknown, parts: string[], depth: number, out: unknown[], missingAsNull: boolean): void {
  if (depth === parts.length) {
    if (Array.isArray(value)) {
      if (value.length === 0) out.push(undefined);
      else for (const element of value) out.push(element);
    } else {
      out.push(value);
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const part = parts[depth];
    if (/^\d+$/.test(part)) collect(value[Number(part)], parts, depth + 1, out, missingAsNull);
    for (const element of value) {
      if (element !== null && typeof element === 'object' && !Array.isArray(element)) collect(element, parts, depth, out, missingAsNull);
    }
    return;
  }
  const next = (value as Document)[parts[depth]];
  if (next === undefined) {
    if (missingAsNull) out.push(null);
    return;
  }
  collect(next, parts, depth + 1, out, missingAsNull);
}

/**
 * Values an index can answer an equality lookup for without doubt: scalars whose equality in
 * mingo and MongoDB is plain value equality. Null, arrays, documents and regexes take the scan
 * (their matching rules reach beyond plain equality).
 */
export function isIndexableEqualityValue(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
      return true;
    case 'object':
      if (value === null || Array.isArray(value) || value instanceof RegExp) return false;
      if (value instanceof Date) return true;
      return isBsonValue(value) && (value._bsontype === 'ObjectId' || value._bsontype === 'Binary');
    default:
      return false;
  }
}
