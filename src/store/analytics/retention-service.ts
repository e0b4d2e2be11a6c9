// Starts with the server (src/server/service-registry.ts): creates the analytics indexes
// and runs the retention sweeper that removes expired runs with all their records.
//   RETENTION_SWEEP_INTERVAL_MS  how often to sweep (default 60000, the TTL monitor's period)
//   RETENTION_DELETE_FILES=1     also delete the expired runs' files inside the workspace
import type { ServiceStarter } from '../../server/service-registry.ts';
import { ensureAnalyticsIndexes } from './analytics-indexes.ts';
import { startRetentionSweeper } from './retention-sweeper.ts';

export const retentionServiceStarter: ServiceStarter = {
  name: 'analytics-retention',
  async start({ db, config, log }) {
    await ensureAnalyticsIndexes(db);
    const intervalMs = Number(process.env.RETENTION_SWEEP_INTERVAL_MS ?? 60_000);
    if (!Number.isFinite(intervalMs) || intervalMs < 10) {
      throw new Error(`RETENTION_SWEEP_INTERVAL_MS must be a number of milliseconds >= 10, got ${process.env.RETENTION_SWEEP_INTERVAL_MS}.`);
    }
    const sweeper = startRetentionSweeper(db, {
      intervalMs,
      deleteFilesUnder: process.env.RETENTION_DELETE_FILES === '1' ? config.workspaceDir : null,
      onError: (err) => log(`retention sweep failed (retrying at the next tick): ${String(err)}`),
    });
    return { services: {}, stop: () => sweeper.stop() };
  },
};
