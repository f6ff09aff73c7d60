import { GatewayError, type TokenRejectionReason } from '../errors/index.js';

/** A refused token: 401 `invalid_token`; `reason` goes to audit and metrics, `detail` to logs only. */
export function rejectToken(reason: TokenRejectionReason, detail: string, cause?: unknown): GatewayError {
  return new GatewayError('token_invalid', { tokenRejection: reason, detail, cause });
}
