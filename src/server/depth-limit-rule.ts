// Validation rule: refuse operations nested deeper than the limit, before they run. Like
// every validation error its code is GRAPHQL_VALIDATION_FAILED; `extensions.limit` names
// the limit that was exceeded.
// Introspection (`__schema`, `__type`) has its own, higher limit: the standard
// introspection query that tools send is 15 levels deep, while application queries rarely
// need more than 8. Fragments are followed at every spread; a fragment already on the
// current path is not entered again (graphql's own rules reject such cycles anyway).
import { GraphQLError, Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext } from 'graphql';
import { fragmentsByName } from './document-fragments.ts';

export interface DepthLimits {
  maxDepth: number;
  maxIntrospectionDepth: number;
}

interface Depths {
  fields: number;
  introspection: number;
}

export function depthLimitRule(limits: DepthLimits) {
  return function DepthLimit(context: ValidationContext): ASTVisitor {
    const fragments = fragmentsByName(context.getDocument());
    // Depth of each fragment, per mode, computed once: a document that spreads fragments in
    // a wide DAG would otherwise cost exponential time to walk.
    const fragmentDepths = new Map<string, Depths>();
    const tooDeep = (d: Depths) => d.fields > limits.maxDepth || d.introspection > limits.maxIntrospectionDepth;

    /** Depths of the selection set; `inIntrospection` counts levels below a `__schema`/`__type`. */
    const depthOf = (set: SelectionSetNode, inIntrospection: boolean, onPath: Set<string>): Depths => {
      const deepest: Depths = { fields: 0, introspection: 0 };
      for (const selection of set.selections) {
        let below: Depths = { fields: 0, introspection: 0 };
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name === '__typename') continue;
          const introspection = inIntrospection || name === '__schema' || name === '__type';
          const inner = selection.selectionSet ? depthOf(selection.selectionSet, introspection, onPath) : { fields: 0, introspection: 0 };
          below = introspection
            ? { fields: inner.fields, introspection: inner.introspection + 1 }
            : { fields: inner.fields + 1, introspection: inner.introspection };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          below = depthOf(selection.selectionSet, inIntrospection, onPath);
        } else {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || onPath.has(fragment.name.value)) continue;
          const key = `${inIntrospection ? 'i' : 'f'}:${fragment.name.value}`;
          let known = fragmentDepths.get(key);
          if (!known) {
            onPath.add(fragment.name.value);
            known = depthOf(fragment.selectionSet, inIntrospection, onPath);
            onPath.delete(fragment.name.value);
            fragmentDepths.set(key, known);
          }
          below = known;
        }
        deepest.fields = Math.max(deepest.fields, below.fields);
        deepest.introspection = Math.max(deepest.introspection, below.introspection);
        if (tooDeep(deepest)) break; // enough to refuse; stop walking a hostile document
      }
      return deepest;
    };

    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, false, new Set());
        const name = node.name?.value ?? '(anonymous)';
        if (depth.fields > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`Operation ${name} nests fields more than ${limits.maxDepth} levels deep; at most ${limits.maxDepth} are allowed.`, {
              nodes: [node],
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'maxDepth', maxDepth: limits.maxDepth },
            }),
          );
        } else if (depth.introspection > limits.maxIntrospectionDepth) {
          context.reportError(
            new GraphQLError(`Operation ${name} nests introspection more than ${limits.maxIntrospectionDepth} levels deep; at most ${limits.maxIntrospectionDepth} are allowed.`, {
              nodes: [node],
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'maxIntrospectionDepth', maxIntrospectionDepth: limits.maxIntrospectionDepth },
            }),
          );
        }
      },
    };
  };
}
