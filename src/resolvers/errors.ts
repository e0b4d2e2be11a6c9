// Store errors -> GraphQL errors with `extensions.code`. Resolvers name the argument an
// input belongs to (`underArgument('input', ...)`) so BAD_USER_INPUT carries the full
// argument path, e.g. ["input", "artifacts", 2, "sha256"].
import { GraphQLError } from 'graphql';
import { AmbiguousHashPrefixError, ForbiddenProjectError, InvalidInputError, NotFoundError } from '../store/errors.ts';

export function badUserInput(argumentPath: readonly (string | number)[], message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argumentPath: [...argumentPath], ...extra } });
}

export function notFound(entity: string, key: string): GraphQLError {
  return new GraphQLError(`${entity} "${key}" was not found (or is outside your projects).`, {
    extensions: { code: 'NOT_FOUND', entity, key },
  });
}

/** The GraphQL form of a store error; other errors are returned unchanged. */
export function toGraphQLError(err: unknown, argumentPrefix: readonly (string | number)[] = []): unknown {
  if (err instanceof AmbiguousHashPrefixError) {
    return badUserInput([...argumentPrefix, ...err.field], err.message, { candidates: [...err.candidates] });
  }
  if (err instanceof InvalidInputError) return badUserInput([...argumentPrefix, ...err.field], err.message);
  if (err instanceof NotFoundError) return notFound(err.entity, err.key);
  if (err instanceof ForbiddenProjectError) {
    return new GraphQLError(err.message, { extensions: { code: 'FORBIDDEN', project: err.project } });
  }
  return err;
}

/**
 * Runs store work for one argument, so input errors name their path under that argument
 * (`null` when the store's paths already start with the argument name).
 */
export async function underArgument<T>(argument: string | null, work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toGraphQLError(err, argument === null ? [] : [argument]);
  }
}
