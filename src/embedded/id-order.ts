// A collection's documents in _id order, as MongoDB's _id index gives them: what a query
// sorted on _id with a limit walks to stop after `limit` matches instead of collecting and
// sorting every candidate (the newest-first pages of the registry are exactly that shape).
//
// Only ObjectId _ids are ordered here: their encoded document keys ("o" + 24 hex digits) sort
// as strings exactly as the ObjectIds sort in BSON. A collection holding any other _id type
// reports no order and its queries take the general path.
//
// ObjectIds arrive mostly ascending (the driver makes them from the clock), so an insert is
// usually an append. Out-of-order inserts wait in `pending` and removals are only counted;
// both are merged in on the next read, which costs one pass over the keys.

const OBJECT_ID_KEY_PREFIX = 'o';

export class IdOrder {
  /** Ascending document keys; may hold keys of removed documents until the next read. */
  private sorted: string[] = [];
  /** Inserted keys not yet merged into `sorted` (any order). */
  private pending: string[] = [];
  private removals = 0;
  /** Documents whose _id is not an ObjectId: while any exists, there is no order to offer. */
  private otherKeys = 0;

  inserted(docKey: string): void {
    if (!docKey.startsWith(OBJECT_ID_KEY_PREFIX)) {
      this.otherKeys++;
      return;
    }
    const last = this.sorted.at(-1);
    if (this.pending.length === 0 && (last === undefined || docKey > last)) this.sorted.push(docKey);
    else this.pending.push(docKey);
  }

  removed(docKey: string): void {
    if (docKey.startsWith(OBJECT_ID_KEY_PREFIX)) this.removals++;
    else this.otherKeys--;
  }

  /**
   * Every current document key in ascending _id order, or null when some _id is not an
   * ObjectId. `exists` tells which keys still name a document (removed ones are dropped here).
   */
  ascendingKeys(exists: (docKey: string) => boolean): readonly string[] | null {
    if (this.otherKeys > 0) return null;
    if (this.pending.length > 0 || this.removals > 0) this.merge(exists);
    return this.sorted;
  }

  private merge(exists: (docKey: string) => boolean): void {
    const incoming = this.pending.sort();
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < this.sorted.length || j < incoming.length) {
      const next = j >= incoming.length || (i < this.sorted.length && this.sorted[i]! <= incoming[j]!) ? this.sorted[i++]! : incoming[j++]!;
      // A key removed and inserted again is in both lists: keep it once.
      if (next !== merged.at(-1) && exists(next)) merged.push(next);
    }
    this.sorted = merged;
    this.pending = [];
    this.removals = 0;
  }
}
