export { RateLimiter, StreamCounter, type RateLimitOptions } from './rate-limiter.js';
export { checkJsonShape, type JsonShapeLimits } from './json-shape.js';
