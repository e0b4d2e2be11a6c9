// The caller's project scope. Every repository method takes one and narrows its reads and
// writes with it, so access control (API keys mapped to projects, later) is enforced here
// and nowhere else.
import type { Filter, Document } from 'mongodb';
import { ForbiddenProjectError } from './errors.ts';

export type ProjectScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'projects'; readonly projects: readonly string[] };

export const ALL_PROJECTS: ProjectScope = Object.freeze({ kind: 'all' });

export function projectsScope(projects: readonly string[]): ProjectScope {
  return Object.freeze({ kind: 'projects', projects: Object.freeze([...projects]) });
}

/** The filter clause that keeps a query inside the scope (on the `project` field). */
export function scopeClause<T extends Document>(scope: ProjectScope): Filter<T> {
  if (scope.kind === 'all') return {};
  return { project: { $in: [...scope.projects] } } as unknown as Filter<T>;
}

/**
 * `clauses` AND the scope, flattened: no `$and` around a single clause and no empty
 * clause, so the query planner sees the plain filter when the scope does not narrow it.
 */
export function withinScope<T extends Document>(scope: ProjectScope, ...clauses: Filter<T>[]): Filter<T> {
  const all = [scopeClause<T>(scope), ...clauses].filter((clause) => Object.keys(clause).length > 0);
  if (all.length === 0) return {};
  if (all.length === 1) return all[0]!;
  return { $and: all } as Filter<T>;
}

export function isProjectInScope(scope: ProjectScope, project: string): boolean {
  return scope.kind === 'all' || scope.projects.includes(project);
}

export function assertProjectInScope(scope: ProjectScope, project: string): void {
  if (!isProjectInScope(scope, project)) throw new ForbiddenProjectError(project);
}
