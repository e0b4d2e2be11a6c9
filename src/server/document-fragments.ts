// The fragment definitions of a document by name, for validation rules that follow spreads.
import { Kind, type DocumentNode, type FragmentDefinitionNode } from 'graphql';

export function fragmentsByName(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  return fragments;
}
