// Field paths and constants compiled to getters: the operands every compiled stage reads.
import type { Document } from 'bson';
import { resolve } from 'mingo/util';

export type Getter = (doc: Document) => unknown;

/** A field path (`$a.b`) or a constant, compiled; undefined for anything needing mingo. */
export function compileOperand(expr: unknown): Getter | undefined {
  if (typeof expr === 'string') {
    if (!expr.startsWith('$')) return () => expr;
    if (expr.startsWith('$$')) return undefined;
    const path = expr.slice(1);
    if (!path.includes('.')) return (doc) => doc[path];
    const parts = path.split('.');
    // Walk plain nested documents directly; a path through an array takes mingo's resolve,
    // which maps the rest of the path over the elements.
    return (doc) => {
      let value: unknown = doc;
      for (const part of parts) {
        if (value === null || typeof value !== 'object') return undefined;
        if (Array.isArray(value)) return resolve(doc, path);
        value = (value as Document)[part];
      }
      return value;
    };
  }
  if (typeof expr === 'number' || typeof expr === 'boolean' || expr === null) return () => expr;
  return undefined;
}

