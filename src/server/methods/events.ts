import { z } from "zod";
import type { ChainVerification } from "../../engine/event-log.ts";
import { EventQuerySchema, type Event } from "../../ir/event.ts";
import { method, type ServerMethodTable } from "../context.ts";

export const EventsQueryParams = EventQuerySchema;
export type EventsQueryParams = z.input<typeof EventsQueryParams>;

export interface EventsQueryResult {
  count: number;
  /** Most recent first. */
  events: Event[];
}

/** `events.count|query|chain.enable|chain.verify` over the session's event log. */
export const eventMethods: ServerMethodTable = {
  "events.count": method(z.object({}), (_p, { session }): number => session.runtime.events.count()),
  "events.query": method(EventsQueryParams, async (p, { session }): Promise<EventsQueryResult> => {
    await session.runtime.events.settled();
    const events = session.runtime.events.query(p);
    return { count: events.length, events };
  }),
  "events.chain.enable": method(z.object({}), (_p, { session }) => {
    session.runtime.events.enableChain();
    return { ok: true };
  }),
  "events.chain.verify": method(z.object({}), (_p, { session }): Promise<ChainVerification> => session.runtime.events.verifyChain()),
};
