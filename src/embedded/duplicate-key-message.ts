// The `dup key: { field: value }` part of MongoDB's E11000 message, written the way mongod
// writes it (strings in double quotes, ObjectId('...'), new Date(ms)).
import type { Document } from 'bson';

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) return `[ ${value.map(formatValue).join(', ')} ]`;
  if (typeof value === 'object') {
    const bsontype = (value as { _bsontype?: string })._bsontype;
    if (bsontype === 'ObjectId') return `ObjectId('${(value as { toHexString(): string }).toHexString()}')`;
    if (bsontype) return String(value);
    return formatDuplicateKey(value as Document);
  }
  return String(value);
}

export function formatDuplicateKey(keyValue: Document): string {
  const fields = Object.entries(keyValue).map(([k, v]) => `${k}: ${formatValue(v)}`);
  return fields.length ? `{ ${fields.join(', ')} }` : '{}';
}
