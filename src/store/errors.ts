// Errors the store raises. They carry what the caller needs to act (which field, which
// value, what is allowed); the GraphQL layer turns them into `extensions.code`.

/** Input the store cannot accept. `field` is the path inside the input that was wrong. */
export class InvalidInputError extends Error {
  readonly field: readonly (string | number)[];
  constructor(field: readonly (string | number)[], message: string) {
    super(message);
    this.name = 'InvalidInputError';
    this.field = field;
  }
}

export class NotFoundError extends Error {
  readonly entity: string;
  readonly key: string;
  constructor(entity: string, key: string) {
    super(`${entity} "${key}" was not found (or is outside your projects).`);
    this.name = 'NotFoundError';
    this.entity = entity;
    this.key = key;
  }
}

export class ForbiddenProjectError extends Error {
  readonly project: string;
  constructor(project: string) {
    super(`Project "${project}" is outside the projects this caller may access.`);
    this.name = 'ForbiddenProjectError';
    this.project = project;
  }
}

/** A sha256 prefix that matches more than one artifact. */
export class AmbiguousHashPrefixError extends InvalidInputError {
  readonly prefix: string;
  readonly candidates: readonly string[];
  constructor(prefix: string, candidates: readonly string[]) {
    super(
      [],
      `sha256 prefix "${prefix}" matches more than one artifact (${candidates.join(', ')}, ...); give more characters.`,
    );
    this.name = 'AmbiguousHashPrefixError';
    this.prefix = prefix;
    this.candidates = candidates;
  }
}
