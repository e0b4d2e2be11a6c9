// Validation rule: refuse operations that select too many fields in total (fragments
// counted at every spread, so a fragment reused many times costs what it expands to) or
// use too many aliases, before they run. Together with the depth limit this bounds the
// work one request can ask for. The code is GRAPHQL_VALIDATION_FAILED; `extensions.limit`
// names the limit that was exceeded.
import { GraphQLError, Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext } from 'graphql';
import { fragmentsByName } from './document-fragments.ts';

export interface QuerySizeLimits {
  maxFields: number;
  maxAliases: number;
}

interface Tally {
  fields: number;
  aliases: number;
}

export function querySizeLimitRule(limits: QuerySizeLimits) {
  return function QuerySizeLimit(context: ValidationContext): ASTVisitor {
    const fragments = fragmentsByName(context.getDocument());
    const over = (t: Tally) => t.fields > limits.maxFields || t.aliases > limits.maxAliases;
    const count = (set: SelectionSetNode, tally: Tally, onPath: Set<string>): void => {
      for (const selection of set.selections) {
        if (over(tally)) return; // stop early: a hostile document can expand exponentially
        if (selection.kind === Kind.FIELD) {
          tally.fields += 1;
          if (selection.alias) tally.aliases += 1;
          if (selection.selectionSet) count(selection.selectionSet, tally, onPath);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          count(selection.selectionSet, tally, onPath);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || onPath.has(name)) continue;
          onPath.add(name);
          count(fragment.selectionSet, tally, onPath);
          onPath.delete(name);
        }
      }
    };
    return {
      OperationDefinition(node) {
        const tally: Tally = { fields: 0, aliases: 0 };
        count(node.selectionSet, tally, new Set());
        if (tally.fields > limits.maxFields) {
          context.reportError(
            new GraphQLError(
              `Operation ${node.name?.value ?? '(anonymous)'} selects more than ${limits.maxFields} fields (fragments counted where they are spread); split it into smaller queries.`,
              { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'maxFields', maxFields: limits.maxFields } },
            ),
          );
        } else if (tally.aliases > limits.maxAliases) {
          context.reportError(
            new GraphQLError(
              `Operation ${node.name?.value ?? '(anonymous)'} uses more than ${limits.maxAliases} aliases; at most ${limits.maxAliases} are allowed.`,
              { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'maxAliases', maxAliases: limits.maxAliases } },
            ),
          );
        }
      },
    };
  };
}
