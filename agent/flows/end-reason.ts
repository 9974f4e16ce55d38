/**
 * Why a flow ended. One enum carried into every exported record; the values
 * follow IPFIX flowEndReason (RFC 5102, information element 136).
 */
export const END_REASONS = ['idle', 'active', 'end', 'forced', 'evicted'] as const;
export type EndReason = (typeof END_REASONS)[number];

export const END_REASON_DOC: Record<EndReason, string> = {
  idle: 'no packet for the idle timeout (RFC 5102 idle timeout, 1)',
  active: 'the flow lasted longer than the active timeout; later packets start a new flow (active timeout, 2)',
  end: 'TCP FIN seen in both directions, or RST, plus a short grace for the final ACKs (end of flow detected, 3)',
  forced: 'end of input or shutdown, for a flow not already closed (forced end, 4)',
  evicted: 'the flow table was full and this was the least recently used flow (lack of resources, 5)',
};

/** IPFIX flowEndReason code of each reason. */
export const END_REASON_CODE: Record<EndReason, number> = { idle: 1, active: 2, end: 3, forced: 4, evicted: 5 };
