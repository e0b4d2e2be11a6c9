// Sorting and keyset pagination of experiments. A page after a cursor is "everything that
// sorts after (value, _id)" for the chosen field, with _id as the tie-breaker, so pages are
// stable while experiments are added. MongoDB sorts null/missing values lowest: first
// when ascending, last when descending; the after-cursor clause follows that order.
import { ObjectId, type Filter, type Sort } from 'mongodb';
import type { ExperimentDoc } from './documents.ts';
import { InvalidInputError } from './errors.ts';

export const EXPERIMENT_SORT_PATHS = {
  CREATED_AT: 'createdAt',
  NAME: 'name',
  FINAL_LOSS: 'summary.finalLoss',
  MIN_LOSS: 'summary.minLoss',
  LORA_RANK: 'config.lora_rank',
  LEARNING_RATE: 'config.learning_rate',
  STARTED_AT: 'startedAt',
  ENDED_AT: 'endedAt',
} as const;

export type ExperimentSortField = keyof typeof EXPERIMENT_SORT_PATHS;
export type SortDirection = 'ASC' | 'DESC';

export interface ExperimentSortInput {
  field?: ExperimentSortField | null;
  direction?: SortDirection | null;
}

export interface ResolvedSort {
  field: ExperimentSortField;
  direction: SortDirection;
  path: string;
}

/** A position in a sorted list of experiments: the sort value and id of the last row seen. */
export interface ExperimentCursor {
  field: ExperimentSortField;
  direction: SortDirection;
  value: number | string | Date | null;
  id: ObjectId;
}

export function resolveExperimentSort(input: ExperimentSortInput | null | undefined): ResolvedSort {
  const field = input?.field ?? 'CREATED_AT';
  const direction = input?.direction ?? 'DESC';
  if (!Object.hasOwn(EXPERIMENT_SORT_PATHS, field)) {
    throw new InvalidInputError(['field'], `sort field ${JSON.stringify(field)} is unknown; allowed: ${Object.keys(EXPERIMENT_SORT_PATHS).join(', ')}.`);
  }
  if (direction !== 'ASC' && direction !== 'DESC') {
    throw new InvalidInputError(['direction'], `sort direction ${JSON.stringify(direction)} is unknown; allowed: ASC, DESC.`);
  }
  return { field, direction, path: EXPERIMENT_SORT_PATHS[field] };
}

export function buildExperimentSort(sort: ResolvedSort): Sort {
  const order = sort.direction === 'ASC' ? 1 : -1;
  return { [sort.path]: order, _id: order };
}

/** The value of the sort field in a document, as the cursor records it. */
export function sortValueOf(doc: ExperimentDoc, sort: ResolvedSort): ExperimentCursor['value'] {
  let value: unknown = doc;
  for (const key of sort.path.split('.')) {
    value = value != null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (typeof value === 'number' || typeof value === 'string' || value instanceof Date) return value;
  return null;
}

/** Rows strictly after the cursor in the order of `sort`. */
export function buildAfterCursorFilter(sort: ResolvedSort, cursor: ExperimentCursor): Filter<ExperimentDoc> {
  if (cursor.field !== sort.field || cursor.direction !== sort.direction) {
    throw new InvalidInputError(
      ['after'],
      `the cursor was made for sort ${cursor.field} ${cursor.direction}, but this query sorts by ${sort.field} ${sort.direction}; restart paging without "after".`,
    );
  }
  const path = sort.path;
  const ascending = sort.direction === 'ASC';
  const idAfter = ascending ? { $gt: cursor.id } : { $lt: cursor.id };
  if (cursor.value === null) {
    // Nulls sort first ascending: after them come the other nulls with a later id, then
    // every non-null value. Descending, nulls are last: only later-id nulls remain.
    const laterNulls = { [path]: null, _id: idAfter };
    return (ascending ? { $or: [laterNulls, { [path]: { $ne: null } }] } : laterNulls) as Filter<ExperimentDoc>;
  }
  const beyond = ascending ? { $gt: cursor.value } : { $lt: cursor.value };
  const clauses: Record<string, unknown>[] = [{ [path]: beyond }, { [path]: cursor.value, _id: idAfter }];
  if (!ascending) clauses.push({ [path]: null });
  return { $or: clauses } as Filter<ExperimentDoc>;
}

/** Cursors are opaque to clients: base64url of a small tagged JSON array. */
export function encodeExperimentCursor(cursor: ExperimentCursor): string {
  const v = cursor.value;
  const taggedValue = v === null ? ['z'] : v instanceof Date ? ['d', v.getTime()] : typeof v === 'number' ? ['n', v] : ['s', v];
  const json = JSON.stringify([1, cursor.field, cursor.direction, taggedValue, cursor.id.toHexString()]);
  return Buffer.from(json, 'utf8').toString('base64url');
}

export function decodeExperimentCursor(text: string): ExperimentCursor {
  const invalid = () =>
    new InvalidInputError(['after'], `"after" is not a cursor this server issued (${JSON.stringify(text.slice(0, 40))}); use a pageInfo.endCursor value.`);
  if (typeof text !== 'string' || text.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 5 || parsed[0] !== 1) throw invalid();
  const [, field, direction, tagged, id] = parsed as [number, unknown, unknown, unknown, unknown];
  if (typeof field !== 'string' || !Object.hasOwn(EXPERIMENT_SORT_PATHS, field)) throw invalid();
  if (direction !== 'ASC' && direction !== 'DESC') throw invalid();
  if (typeof id !== 'string' || !/^[0-9a-f]{24}$/.test(id)) throw invalid();
  if (!Array.isArray(tagged)) throw invalid();
  let value: ExperimentCursor['value'];
  if (tagged[0] === 'z' && tagged.length === 1) value = null;
  else if (tagged[0] === 'd' && typeof tagged[1] === 'number' && Number.isFinite(tagged[1])) value = new Date(tagged[1]);
  else if (tagged[0] === 'n' && typeof tagged[1] === 'number' && Number.isFinite(tagged[1])) value = tagged[1];
  else if (tagged[0] === 's' && typeof tagged[1] === 'string') value = tagged[1];
  else throw invalid();
  return { field: field as ExperimentSortField, direction, value, id: new ObjectId(id) };
}
