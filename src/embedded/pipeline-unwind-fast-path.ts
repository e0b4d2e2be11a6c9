// Compiled `$unwind` of a top-level field, with `includeArrayIndex` and
// `preserveNullAndEmptyArrays`. mingo's $unwind resolves and rebuilds every document through
// its generic path walker, and because it may rewrite documents the engine copies the whole
// input first; it also leaves every stage after it to mingo. Grouping runs by tag (unwind,
// then group) spent most of its time there.
//
// Semantics are MongoDB's: an array gives one document per element (its index in
// `includeArrayIndex`); a missing field, null or an empty array gives no document, or, with
// `preserveNullAndEmptyArrays`, the document itself (an empty array's field removed, the
// index null); any other value is a one-element array (index null). mingo departs from this
// for an empty string or an empty document, which it drops; the compiled stage keeps them,
// as MongoDB does. Output documents are new objects that may share values with their input;
// followed by a compiled $group, they are not built at all (see `each`): a run with three
// tags would otherwise be copied three times only to be read once.
// Checked against mingo in test/embedded/pipeline-fast-paths.test.ts.
import type { Document } from 'bson';

const OPTIONS = new Set(['path', 'includeArrayIndex', 'preserveNullAndEmptyArrays']);
const REMOVED = Symbol('field removed');

export interface CompiledUnwind {
  /** The unwound documents: new objects that may share values with their input. */
  all(docs: Document[]): Document[];
  /**
   * Hands each unwound document to `visit` without building it: `visit` gets one reused
   * view holding only `fields` (and the unwound field and index), valid until it returns.
   * For a consumer that reads values and keeps none of the document (a compiled $group).
   */
  each(docs: Document[], fields: readonly string[], visit: (doc: Document) => void): void;
}

/** The stage compiled; undefined for a spec it does not compile (a nested path, an unknown option). */
export function compileUnwind(spec: unknown): CompiledUnwind | undefined {
  const options = (typeof spec === 'string' ? { path: spec } : spec) as Document | null;
  if (!options || typeof options !== 'object' || Object.getPrototypeOf(options) !== Object.prototype) return undefined;
  if (Object.keys(options).some((k) => !OPTIONS.has(k))) return undefined;
  const { path, includeArrayIndex: indexField, preserveNullAndEmptyArrays: preserve = false } = options;
  if (typeof path !== 'string' || !/^\$[^$.][^.]*$/.test(path) || typeof preserve !== 'boolean') return undefined;
  const field = path.slice(1);
  if (indexField !== undefined && (typeof indexField !== 'string' || !/^[^$.][^.]*$/.test(indexField) || indexField === field)) return undefined;

  /** Calls `emit` for each output: its input, the unwound field's value (REMOVED for an emptied array) and the array index (null: not an element). */
  const unwind = (docs: Document[], emit: (doc: Document, value: unknown, index: number | null) => void): void => {
    for (const doc of docs) {
      const value = doc[field];
      if (Array.isArray(value)) {
        if (value.length === 0 && preserve) emit(doc, REMOVED, null);
        for (let i = 0; i < value.length; i++) emit(doc, value[i], i);
      } else if ((value !== undefined && value !== null) || preserve) {
        emit(doc, value, null);
      }
    }
  };

  return {
    all(docs) {
      const out: Document[] = [];
      unwind(docs, (doc, value, index) => {
        let element: Document;
        if (value === REMOVED) {
          const { [field]: _emptied, ...rest } = doc;
          element = rest;
        } else if (index === null) element = indexField === undefined ? doc : { ...doc };
        else element = { ...doc, [field]: value };
        if (indexField !== undefined) element[indexField] = index;
        out.push(element);
      });
      return out;
    },
    each(docs, fields, visit) {
      const others = fields.filter((f) => f !== field && f !== indexField);
      const view: Document = {};
      unwind(docs, (doc, value, index) => {
        for (const f of others) view[f] = doc[f];
        view[field] = value === REMOVED ? undefined : value;
        if (indexField !== undefined) view[indexField] = index;
        visit(view);
      });
    },
  };
}
