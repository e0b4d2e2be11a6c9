// The winning plan as explain reports it, in MongoDB's classic plan shape: FETCH over IXSCAN
// when an index answered the filter, COLLSCAN otherwise.
import type { Document } from 'bson';

export function winningPlanOf(indexName: string | null, keyPattern: Document | undefined, filter: Document): Document {
  if (indexName === null) return { stage: 'COLLSCAN', filter, direction: 'forward' };
  return { stage: 'FETCH', filter, inputStage: { stage: 'IXSCAN', keyPattern, indexName, isMultiKey: false, direction: 'forward', indexBounds: {} } };
}
