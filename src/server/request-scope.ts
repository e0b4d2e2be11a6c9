// The project scope of a request. Every caller sees every project until API keys arrive;
// then this is the one place that maps a key to its projects.
import type { IncomingHttpHeaders } from 'node:http';
import { ALL_PROJECTS, type ProjectScope } from '../store/scope.ts';

export type ScopeResolver = (headers: IncomingHttpHeaders) => ProjectScope | Promise<ProjectScope>;

export const openAccessScope: ScopeResolver = () => ALL_PROJECTS;
