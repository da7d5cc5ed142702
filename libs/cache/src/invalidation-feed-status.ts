/** What Cache needs to know about the event feed for its gap rule (see Cache.trackInvalidationFeed). */
export interface InvalidationFeedStatus {
  readonly connected: boolean;
  /** epoch ms since when the consumer is disconnected; null while connected */
  readonly disconnectedSince: number | null;
  /** Called with true on every (re)connect, false on every disconnect. Returns an unsubscribe. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
  /**
   * epoch ms, or null: events published before it may never reach this consumer (its queue was
   * missing at the last (re)connect, so what was published meanwhile went nowhere). Entries of
   * the fed namespaces stored before it are not to be trusted.
   */
  readonly eventsLostBefore?: number | null;
}
