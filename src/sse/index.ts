export { serializeSseItem, SseParseError, SseParser, type SseComment, type SseEvent, type SseItem } from './sse-parser.js';
