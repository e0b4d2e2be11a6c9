// What the resolvers of types without their own collection receive as parent (codegen
// `mappers`): embedded sub-documents and values the store returns.
import type { ExperimentDoc } from '../store/documents.ts';
import type { ExperimentFilterInput } from '../store/experiment-filter.ts';
import type { DeletedExperiment, ExperimentPage } from '../store/experiments.ts';

export type BaseModelParent = NonNullable<ExperimentDoc['baseModel']>;
export type DatasetParent = NonNullable<ExperimentDoc['dataset']>;

/** A page plus what `totalCount` needs to count lazily (only when asked for). */
export interface ExperimentConnectionParent {
  page: ExperimentPage;
  hasPreviousPage: boolean;
  filter: ExperimentFilterInput | null | undefined;
}

export type DeleteExperimentParent = DeletedExperiment;

export interface ServerInfoParent {
  version: string;
  startedAt: Date;
}
