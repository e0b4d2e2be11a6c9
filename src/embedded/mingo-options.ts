// The options every mingo call gets: all of mingo's operators are registered by the package's
// main entry; what varies per command is the collation, the `let` variables and $lookup's
// access to other collections.
import type { Document } from 'bson';
import type { Options } from 'mingo/types';

export function queryOptions(extra: { collation?: Document; variables?: Document; collectionResolver?: (name: string) => Document[] } = {}): Partial<Options> {
  return {
    useStrictMode: true,
    scriptEnabled: false,
    ...(extra.collation ? { collation: extra.collation as Options['collation'] } : {}),
    ...(extra.variables ? { variables: extra.variables } : {}),
    ...(extra.collectionResolver ? { collectionResolver: extra.collectionResolver } : {}),
  };
}
