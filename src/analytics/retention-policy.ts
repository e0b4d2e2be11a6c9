// Retention: how long an experiment is kept. `ttlDays` (on launch, or later through
// setExperimentRetention) becomes an absolute `expiresAt`; the TTL index on experiments
// and the retention sweeper do the removing (see src/store/analytics/retention-sweeper.ts).
import { InvalidInputError } from '../store/errors.ts';

export const MAX_TTL_DAYS = 36_500;
const MS_PER_DAY = 86_400_000;

/**
 * The `expiresAt` for a retention of `ttlDays` days from `now`; null when `ttlDays` is
 * null/undefined (keep forever). Fractional days are allowed (0.5 = twelve hours).
 * `field` names the argument in the error message, e.g. ['input', 'ttlDays'].
 */
export function expiresAtFromTtlDays(
  ttlDays: number | null | undefined,
  now: Date = new Date(),
  field: readonly (string | number)[] = ['ttlDays'],
): Date | null {
  if (ttlDays == null) return null;
  if (typeof ttlDays !== 'number' || !Number.isFinite(ttlDays) || ttlDays <= 0 || ttlDays > MAX_TTL_DAYS) {
    throw new InvalidInputError(
      field,
      `${field.join('.')} must be a number of days greater than 0 and at most ${MAX_TTL_DAYS}, got ${String(ttlDays)}.`,
    );
  }
  return new Date(now.getTime() + ttlDays * MS_PER_DAY);
}
