import { isRequest, readProgressToken, requestKey, type Message, type RequestId } from './messages.js';

/** A client request the upstream has not answered yet. */
export interface InFlightRequest {
  id: RequestId;
  progressToken: string | number | undefined;
}

/** Notifications about the session as a whole, never about one request: they go to the GET stream. */
const SESSION_NOTIFICATIONS: ReadonlySet<string> = new Set([
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
]);

/**
 * On which client stream a message from the upstream belongs, for a session
 * bridged from stdio or legacy SSE (where messages carry no such link): the
 * POST stream of the request it relates to, or undefined for the session's
 * GET stream.
 *
 * - progress: the request whose `_meta.progressToken` it names (exact);
 * - list_changed and resources/updated: the GET stream (session-wide);
 * - anything else (log messages, sampling, elicitation, roots requests): the
 *   one request in flight, when there is exactly one. With several, which one
 *   caused it cannot be known, so it goes to the GET stream, where the client
 *   listens for messages not tied to a request. Either way it stays within the
 *   session of the one client the upstream serves.
 */
export function findRelatedRequest(message: Message, inFlight: ReadonlyMap<string, InFlightRequest>): RequestId | undefined {
  const method = (message as { method?: string }).method;
  if (method === undefined) return undefined;
  if (method === 'notifications/progress') {
    const token = (message as { params?: { progressToken?: unknown } }).params?.progressToken;
    for (const request of inFlight.values()) if (request.progressToken !== undefined && request.progressToken === token) return request.id;
    return undefined;
  }
  if (SESSION_NOTIFICATIONS.has(method) || inFlight.size !== 1) return undefined;
  const [only] = inFlight.values();
  return only!.id;
}

/** Records a client request as in flight (requests only). */
export function trackRequest(message: Message, inFlight: Map<string, InFlightRequest>): void {
  if (isRequest(message)) inFlight.set(requestKey(message.id), { id: message.id, progressToken: readProgressToken(message) });
}
