// One collection: documents in insertion order keyed by their encoded _id, plus its secondary
// indexes. Every change goes through put/remove so indexes and unique constraints stay true.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './command-error.ts';
import { encodeIndexValue, valuesAtPath } from './index-key.ts';
import { formatDuplicateKey } from './duplicate-key-message.ts';
import { IdOrder } from './id-order.ts';

export interface IndexSpec {
  v: 2;
  key: Record<string, 1 | -1 | string>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  expireAfterSeconds?: number;
  partialFilterExpression?: Document;
}

/** A secondary index: for each key prefix of its fields, the documents holding that prefix. */
const EMPTY: ReadonlySet<string> = new Set();

/**
 * A compound key's values are joined with `|`; inside a value, `\` and `|` are escaped so the
 * joined key stays unambiguous ({a: 'x|sy', b: 'z'} and {a: 'x', b: 'y|sz'} never share one).
 */
function escapeKeyPart(encoded: string): string {
  return encoded.includes('|') || encoded.includes('\\') ? encoded.replace(/\\/g, '\\\\').replace(/\|/g, '\\!') : encoded;
}

function holdersAsSet(holders: string | Set<string> | undefined): ReadonlySet<string> {
  if (holders === undefined) return EMPTY;
  return typeof holders === 'string' ? new Set([holders]) : holders;
}

export class SecondaryIndex {
  readonly spec: IndexSpec;
  readonly fields: string[];
  /**
   * Entry (see entriesOf) -> the docKey holding it, or the set of them once there are several:
   * most entries of a registry's indexes name one document ({name: 1, _id: 1}, createdAt), and
   * a Set for each would be most of the engine's memory and start-up time.
   */
  private readonly entries = new Map<string, string | Set<string>>();
  private readonly matchesPartialFilter?: (doc: Document) => boolean;

  /**
   * The leading fields equality lookups can bind. Fields from `_id` on are left out (unless the
   * index is unique, whose check needs full keys): a query binding `_id` is answered through
   * `_id` itself, and {x: 1, _id: 1} (there for MongoDB's sorted paging) would otherwise file
   * every document under an entry of its own.
   */
  readonly lookupFields: string[];

  constructor(spec: IndexSpec, matchesPartialFilter?: (doc: Document) => boolean) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    const idAt = this.fields.indexOf('_id');
    this.lookupFields = spec.unique || idAt < 0 ? this.fields : this.fields.slice(0, idAt);
    this.matchesPartialFilter = matchesPartialFilter;
  }

  /**
   * Can an equality lookup on this index find every match? A sparse index can: it lacks only
   * documents without the field, which no non-null equality matches. A partial index cannot.
   */
  get answersEqualityLookups(): boolean {
    return !this.spec.partialFilterExpression && this.lookupFields.length > 0;
  }

  /** Full-length keys of a document (the cartesian product over multikey fields); empty when the index skips it. */
  keysOf(doc: Document): string[] {
    if (this.matchesPartialFilter && !this.matchesPartialFilter(doc)) return [];
    if (this.fields.length === 1) {
      // The common case, without the product: one key per distinct value.
      const values = valuesAtPath(doc, this.fields[0]!);
      if (this.spec.sparse && values.length === 1 && values[0] == null) return [];
      if (values.length === 1) return [encodeIndexValue(values[0])];
      return [...new Set(values.map(encodeIndexValue))];
    }
    const perField = this.fields.map((field) => valuesAtPath(doc, field));
    if (this.spec.sparse && perField.every((values) => values.length === 1 && values[0] == null)) return [];
    let keys = [''];
    for (const values of perField) {
      const encoded = [...new Set(values.map(encodeIndexValue))];
      // Encoded values are never empty, so an empty prefix means the first field.
      keys = keys.flatMap((prefix) => encoded.map((e) => (prefix ? `${prefix}|${escapeKeyPart(e)}` : escapeKeyPart(e))));
    }
    return keys;
  }

  /**
   * The entries a full key is filed under: for a single-field index the key itself; for a
   * compound one every prefix of its lookup fields, `${length}#${values}`, so {a:1,b:1} answers
   * queries on `a` alone.
   */
  private entriesOf(fullKey: string): string[] {
    if (this.fields.length === 1) return [fullKey];
    const parts = fullKey.split('|');
    const entries: string[] = [];
    for (let length = 1; length <= this.lookupFields.length; length++) entries.push(`${length}#${parts.slice(0, length).join('|')}`);
    return entries;
  }

  add(docKey: string, keys: string[]): void {
    for (const key of keys) {
      for (const entry of this.entriesOf(key)) {
        const holders = this.entries.get(entry);
        if (holders === undefined) this.entries.set(entry, docKey);
        else if (typeof holders !== 'string') holders.add(docKey);
        else if (holders !== docKey) this.entries.set(entry, new Set([holders, docKey]));
      }
    }
  }

  delete(docKey: string, keys: string[]): void {
    for (const key of keys) {
      for (const entry of this.entriesOf(key)) {
        const holders = this.entries.get(entry);
        if (holders === docKey) {
          this.entries.delete(entry);
        } else if (holders !== undefined && typeof holders !== 'string') {
          holders.delete(docKey);
          if (holders.size === 1) this.entries.set(entry, holders.values().next().value!);
        }
      }
    }
  }

  /** docKeys whose first `encodedValues.length` fields equal the given encoded values. */
  lookup(encodedValues: string[]): ReadonlySet<string> {
    return holdersAsSet(this.entries.get(this.entryOf(encodedValues)));
  }

  /** How many documents `lookup` would name, without building a set for a single one. */
  count(encodedValues: string[]): number {
    const holders = this.entries.get(this.entryOf(encodedValues));
    return holders === undefined ? 0 : typeof holders === 'string' ? 1 : holders.size;
  }

  private entryOf(encodedValues: string[]): string {
    return this.fields.length === 1 ? encodedValues[0]! : `${encodedValues.length}#${encodedValues.map(escapeKeyPart).join('|')}`;
  }

  /** The docKey of another document already holding one of these keys, if any. */
  conflictingHolder(docKey: string, keys: string[]): string | undefined {
    for (const key of keys) {
      const holders = this.entries.get(this.fields.length === 1 ? key : `${this.fields.length}#${key}`);
      if (typeof holders === 'string') {
        if (holders !== docKey) return holders;
      } else if (holders) {
        for (const holder of holders) if (holder !== docKey) return holder;
      }
    }
    return undefined;
  }

  clear(): void {
    this.entries.clear();
  }
}

export const ID_INDEX_NAME = '_id_';

export class Collection {
  readonly database: string;
  readonly name: string;
  /** encoded _id -> document, in insertion order (MongoDB's natural order for a fresh collection). */
  readonly documents = new Map<string, Document>();
  readonly indexes = new Map<string, SecondaryIndex>();
  /** Per document, the keys it holds in each index, in index order (kept only while there are indexes). */
  private readonly keysByDocument = new Map<string, string[][]>();
  /** The _id index's order, for sorted walks (see id-order.ts). */
  private readonly idOrder = new IdOrder();

  constructor(database: string, name: string) {
    this.database = database;
    this.name = name;
  }

  get namespace(): string {
    return `${this.database}.${this.name}`;
  }

  get indexSpecs(): IndexSpec[] {
    return [{ v: 2, key: { _id: 1 }, name: ID_INDEX_NAME }, ...[...this.indexes.values()].map((index) => index.spec)];
  }

  static documentKey(id: unknown): string {
    return encodeIndexValue(id);
  }

  /** Insert a new document or replace the one with the same _id, enforcing unique indexes. */
  put(doc: Document, docKey = Collection.documentKey(doc._id)): void {
    if (this.indexes.size === 0) {
      this.store(docKey, doc);
      return;
    }
    const indexes = [...this.indexes.values()];
    const keys = indexes.map((index) => index.keysOf(doc));
    indexes.forEach((index, i) => {
      if (index.spec.unique && index.conflictingHolder(docKey, keys[i]) !== undefined) throw this.duplicateKeyError(index, doc);
    });
    const previousKeys = this.keysByDocument.get(docKey);
    indexes.forEach((index, i) => {
      if (previousKeys) index.delete(docKey, previousKeys[i]);
      index.add(docKey, keys[i]);
    });
    this.keysByDocument.set(docKey, keys);
    this.store(docKey, doc);
  }

  private store(docKey: string, doc: Document): void {
    if (!this.documents.has(docKey)) this.idOrder.inserted(docKey);
    this.documents.set(docKey, doc);
  }

  /** Document keys in ascending _id order, or null when the collection has non-ObjectId _ids. */
  keysInIdOrder(): readonly string[] | null {
    return this.idOrder.ascendingKeys((docKey) => this.documents.has(docKey));
  }

  remove(docKey: string): boolean {
    const doc = this.documents.get(docKey);
    if (!doc) return false;
    const keys = this.keysByDocument.get(docKey);
    [...this.indexes.values()].forEach((index, i) => keys && index.delete(docKey, keys[i]));
    this.keysByDocument.delete(docKey);
    this.documents.delete(docKey);
    this.idOrder.removed(docKey);
    return true;
  }

  /** Build an index over the current documents; fails without change if a unique key repeats. */
  addIndex(index: SecondaryIndex): void {
    const keysPerDoc: [string, string[]][] = [];
    for (const [docKey, doc] of this.documents) {
      const keys = index.keysOf(doc);
      if (index.spec.unique && index.conflictingHolder(docKey, keys) !== undefined) {
        index.clear();
        throw this.duplicateKeyError(index, doc);
      }
      index.add(docKey, keys);
      keysPerDoc.push([docKey, keys]);
    }
    this.indexes.set(index.spec.name, index);
    for (const [docKey, keys] of keysPerDoc) {
      const held = this.keysByDocument.get(docKey);
      if (held) held.push(keys);
      else this.keysByDocument.set(docKey, [keys]);
    }
  }

  dropIndex(name: string): void {
    const position = [...this.indexes.keys()].indexOf(name);
    if (position < 0) return;
    this.indexes.delete(name);
    if (this.indexes.size === 0) this.keysByDocument.clear();
    else for (const keys of this.keysByDocument.values()) keys.splice(position, 1);
  }

  duplicateKeyError(index: { spec: IndexSpec } | typeof ID_INDEX_NAME, doc: Document): CommandError {
    const spec = index === ID_INDEX_NAME ? { name: ID_INDEX_NAME, key: { _id: 1 } } : index.spec;
    const keyValue: Document = {};
    for (const field of Object.keys(spec.key)) keyValue[field] = valuesAtPath(doc, field)[0] ?? null;
    return new CommandError(
      ErrorCodes.DuplicateKey,
      `E11000 duplicate key error collection: ${this.namespace} index: ${spec.name} dup key: ${formatDuplicateKey(keyValue)}`,
      { keyPattern: spec.key, keyValue },
    );
  }
}
