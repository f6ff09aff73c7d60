export { buildClientHeaders, buildUpstreamHeaders, type UpstreamHeaderContext } from './forward-headers.js';
export { createForwarder, type ForwardOutcome, type Forwarder, type ForwarderOptions, type ForwardRequest } from './forwarder.js';
export { pump } from './pump.js';
export { streamResponse, type ResponsePlan } from './response-plan.js';
export { classifyUpstreamError, isAbort } from './upstream-error.js';
export { SSE_IDLE_TIMEOUT, SseKeepAlive, type SseKeepAliveOptions, type SseStreams } from './sse-keepalive.js';
