// Long-lived services other areas start with the server (the job runner, pub/sub, their
// indexes): each area adds ONE import line and one entry to `serviceStarters`.
import type { Db } from 'mongodb';
import type { Store } from '../store/store.ts';
import type { ServerConfig } from './config.ts';
import type { Services } from './context.ts';
import { jobsServiceStarter } from '../jobs/jobs-service.ts';
import { retentionServiceStarter } from '../store/analytics/retention-service.ts';

export interface ServiceDependencies {
  db: Db;
  store: Store;
  config: ServerConfig;
  log(message: string): void;
}

export interface StartedService {
  services: Partial<Services>;
  stop(): Promise<void>;
}

export interface ServiceStarter {
  name: string;
  start(deps: ServiceDependencies): Promise<StartedService>;
}

export const serviceStarters: ServiceStarter[] = [jobsServiceStarter, retentionServiceStarter];
