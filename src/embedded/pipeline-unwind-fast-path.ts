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
// as MongoDB does. Output documents are new objects that may share values with their input.
// Checked against mingo in test/embedded/pipeline-fast-paths.test.ts.
import type { Document } from 'bson';

const OPTIONS = new Set(['path', 'includeArrayIndex', 'preserveNullAndEmptyArrays']);

/** The stage as a function over documents; undefined for a spec it does not compile (a nested path, an unknown option). */
export function compileUnwind(spec: unknown): ((docs: Document[]) => Document[]) | undefined {
  const options = (typeof spec === 'string' ? { path: spec } : spec) as Document | null;
  if (!options || typeof options !== 'object' || Object.getPrototypeOf(options) !== Object.prototype) return undefined;
  if (Object.keys(options).some((k) => !OPTIONS.has(k))) return undefined;
  const { path, includeArrayIndex: indexField, preserveNullAndEmptyArrays: preserve = false } = options;
  if (typeof path !== 'string' || !/^\$[^$.][^.]*$/.test(path) || typeof preserve !== 'boolean') return undefined;
  const field = path.slice(1);
  if (indexField !== undefined && (typeof indexField !== 'string' || !/^[^$.][^.]*$/.test(indexField) || indexField === field)) return undefined;
  const withIndex = (doc: Document, index: number | null): Document => (indexField === undefined ? doc : { ...doc, [indexField]: index });

  return (docs) => {
    const out: Document[] = [];
    for (const doc of docs) {
      const value = doc[field];
      if (Array.isArray(value)) {
        if (value.length === 0 && preserve) {
          const { [field]: _empty, ...rest } = doc;
          out.push(withIndex(rest, null));
        }
        for (let i = 0; i < value.length; i++) {
          const element: Document = { ...doc, [field]: value[i] };
          if (indexField !== undefined) element[indexField] = i;
          out.push(element);
        }
      } else if ((value !== undefined && value !== null) || preserve) {
        out.push(withIndex(doc, null));
      }
    }
    return out;
  };
}
