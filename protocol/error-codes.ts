/**
 * Codes carried by `{t:'error'}` replies. The connection stays open after
 * any of these; what closes a connection is a close code (close-codes.ts).
 */
export const ErrorCode = {
  /** Decodable msgpack, but not a map of a known shape (missing/wrong-typed field). */
  invalidMessage: 'invalid_message',
  unknownType: 'unknown_type',
  /** A number outside its documented range (coordinates, spawn count, seq). */
  outOfRange: 'out_of_range',
  /** The lobby's bounded inbox is full: the input was not accepted. Retry later. */
  inboxFull: 'inbox_full',
  /** Too many messages per second: the message was dropped, not applied. */
  rateLimited: 'rate_limited',
  /** A spawn would exceed the lobby's particle cap: nothing was spawned. */
  particleCap: 'particle_cap',
  /** A second hello on a joined connection. */
  alreadyJoined: 'already_joined',
  /** The lobby is closing or closed: the input was not accepted. */
  lobbyClosed: 'lobby_closed',
  /** An input sent after the hello but before the welcome (the lobby is still being placed): not accepted. */
  notJoined: 'not_joined',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];
