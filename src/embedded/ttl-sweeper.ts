// TTL indexes: like mongod's TTL monitor, a periodic pass deletes documents whose indexed date
// (the earliest one, for an array) is older than expireAfterSeconds. Deletions are journaled
// like any other write.
import type { Document } from 'bson';
import { Collection } from './collection.ts';
import type { Catalog, WriteBatch } from './catalog.ts';
import { valuesAtPath } from './index-key.ts';

function expiresBefore(doc: Document, field: string, cutoff: number): boolean {
  const dates = valuesAtPath(doc, field).filter((v): v is Date => v instanceof Date);
  return dates.length > 0 && Math.min(...dates.map((d) => d.getTime())) <= cutoff;
}

/** Remove expired documents from every collection with a TTL index; returns the journal operations. */
export function sweepExpiredDocuments(catalog: Catalog, now = Date.now()): WriteBatch {
  const batch: WriteBatch = [];
  for (const [db, collections] of catalog.databases) {
    for (const collection of collections.values()) {
      for (const index of collection.indexes.values()) {
        const seconds = index.spec.expireAfterSeconds;
        if (seconds === undefined) continue;
        const field = index.fields[0];
        const cutoff = now - seconds * 1000;
        const expired = [...collection.documents.values()].filter((doc) => expiresBefore(doc, field, cutoff));
        if (expired.length === 0) continue;
        for (const doc of expired) collection.remove(Collection.documentKey(doc._id));
        batch.push({ op: 'delete', db, coll: collection.name, ids: expired.map((doc) => doc._id) });
      }
    }
  }
  return batch;
}
