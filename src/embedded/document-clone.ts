// Stored documents are never changed in place: readers (open cursors, aggregation inputs) may
// hold them. Writers and stages that mutate work on a copy. BSON value classes (ObjectId,
// Binary, Decimal128...) are immutable in practice and are shared.
import type { Document } from 'bson';

export function cloneValue<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Document = {};
  for (const key of Object.keys(value)) copy[key] = cloneValue((value as Document)[key]);
  return copy as T;
}
