// What an endpoint counts, for diagnostics, lifetime specs and load-based assignment.

/** Counts for diagnostics and lifetime specs. */
export interface EndpointStats {
  exports: number;
  proxies: number;
  channels: number;
  pendingCalls: number;
  loans: number;
  /** Answers of pipelined calls kept for peers that may still target them. */
  answers: number;
}
