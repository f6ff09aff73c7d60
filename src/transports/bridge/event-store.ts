import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Message } from './messages.js';

export interface BoundedEventStoreOptions {
  /** Most events kept (oldest dropped first). */
  maxEvents: number;
  /** Most bytes of serialized messages kept (oldest dropped first). */
  maxBytes: number;
}

interface StoredEvent {
  id: EventId;
  streamId: StreamId;
  message: Message;
  bytes: number;
}

/**
 * The memory of one bridged session's SSE streams, so a client that lost a
 * stream can resume it with `Last-Event-ID` (2025-11-25 transport,
 * "Resumability and Redelivery"). Bounded by count and bytes: the oldest
 * events go first, and a resume from an event that is gone replays nothing
 * older than what is left. Lives and dies with its session.
 *
 * Event ids are `<stream id>_<sequence>`, so the stream of any id is known
 * without a lookup (and a forged id names no stream of another session:
 * each session has its own store).
 */
export class BoundedEventStore implements EventStore {
  readonly #events: StoredEvent[] = [];
  /** Index of the first live event in #events (dropped ones are compacted away in batches). */
  #head = 0;
  #bytes = 0;
  #sequence = 0;

  constructor(private readonly options: BoundedEventStoreOptions) {}

  async storeEvent(streamId: StreamId, message: Message): Promise<EventId> {
    this.#sequence += 1;
    const id = `${streamId}_${this.#sequence}`;
    // One serialization per stored event, for the byte bound (messages can be megabytes).
    const bytes = JSON.stringify(message).length;
    this.#events.push({ id, streamId, message, bytes });
    this.#bytes += bytes;
    while (this.#events.length - this.#head > this.options.maxEvents || (this.#bytes > this.options.maxBytes && this.#events.length - this.#head > 1)) {
      this.#bytes -= this.#events[this.#head]!.bytes;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events.splice(0, this.#head);
      this.#head = 0;
    }
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const separator = eventId.lastIndexOf('_');
    return separator > 0 ? eventId.slice(0, separator) : undefined;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: Message) => Promise<void> }): Promise<StreamId> {
    const streamId = (await this.getStreamIdForEventId(lastEventId)) ?? '';
    const after = Number(lastEventId.slice(streamId.length + 1));
    for (let index = this.#head; index < this.#events.length; index += 1) {
      const event = this.#events[index]!;
      // Priming events ({}) only carry an id; there is nothing to replay in them.
      if (event.streamId !== streamId || Number(event.id.slice(streamId.length + 1)) <= after) continue;
      if (Object.keys(event.message).length > 0) await send(event.id, event.message);
    }
    return streamId;
  }
}
