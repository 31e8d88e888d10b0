import { MemwalkError } from '../errors.js';

/** The two backends (or the native baseline) produced different results for the same work. */
export class BackendMismatchError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('backend-mismatch', message, details);
  }
}
