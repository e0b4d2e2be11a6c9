// Compiled fast paths for common aggregation stages. Placeholder: every stage goes to mingo.
import type { Document } from 'bson';

export function runFastStages(docs: Document[], stages: Document[]): { docs: Document[]; rest: Document[] } {
  return { docs, rest: stages };
}
