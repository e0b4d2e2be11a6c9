// Express error handler for request bodies the JSON parser refused (too large, not JSON),
// answered in the GraphQL error shape so clients see one format.
import type { NextFunction, Request, Response } from 'express';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
  length?: number;
}

export function bodyErrorHandler(err: BodyParserError, _req: Request, res: Response, next: NextFunction): void {
  if (err.type === 'entity.too.large') {
    res.status(413).json({
      errors: [{
        message: `Request body is ${err.length ?? 'more than'} bytes; at most ${err.limit} bytes are accepted.`,
        extensions: { code: 'PAYLOAD_TOO_LARGE', maxBodyBytes: err.limit },
      }],
    });
    return;
  }
  if (err.type === 'entity.parse.failed') {
    res.status(400).json({ errors: [{ message: 'Request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
    return;
  }
  next(err);
}
