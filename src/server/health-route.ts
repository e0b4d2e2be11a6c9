// GET /healthz: 200 when the database answers a ping, 503 when it does not, so a load
// balancer takes an instance out while its database is unreachable.
import type { Request, Response } from 'express';

export function healthRoute(ping: () => Promise<boolean>, startedAt: Date) {
  return async (_req: Request, res: Response): Promise<void> => {
    const reachable = await ping();
    res.status(reachable ? 200 : 503).json({
      status: reachable ? 'ok' : 'unavailable',
      database: reachable ? 'reachable' : 'unreachable',
      uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    });
  };
}
