// Errors a client sees: GraphQL errors with a code pass through; anything unexpected (a
// driver error, a bug) is logged and replaced by a generic INTERNAL_SERVER_ERROR, so
// internal details (hosts, stack traces, query shapes) never reach the client.
import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

const CLIENT_CODES = new Set([
  'BAD_USER_INPUT', 'NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED',
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST', 'CONFLICT',
]);

export function maskInternalError(formatted: GraphQLFormattedError, error: unknown, log: (message: string) => void): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) return formatted;
  const original = unwrapResolverError(error);
  log(`internal error at ${JSON.stringify(formatted.path ?? [])}: ${original instanceof Error ? (original.stack ?? original.message) : String(original)}`);
  return {
    message: 'Internal server error; the server log has the details.',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
