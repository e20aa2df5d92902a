/**
 * WebSocket close codes the server uses, in one table so server, bots and the
 * browser agree on what each means and whether reconnecting can help.
 * 1000–1015 are RFC 6455 codes; 4000–4099 are swarmhost's application codes.
 */
export const CloseCode = {
  normal: 1000,
  /** A text message: the protocol is binary only. */
  unsupportedData: 1003,
  /** A binary message that is not decodable msgpack of the right shape. */
  invalidPayload: 1007,
  /** Policy: a message flood sustained past SWARMHOST_RATE_LIMIT_FLOOD_SECONDS (ws also uses it for too many fragments). */
  policy: 1008,
  /** Message larger than the configured maximum (sent by ws itself). */
  tooBig: 1009,
  /** An unexpected server error on this connection (or its lobby failed); the server lives on. */
  internalError: 1011,
  /** A socket cap was reached while the upgrade was in flight: retry later. */
  tryAgainLater: 1013,
  versionMismatch: 4000,
  helloTimeout: 4001,
  lobbyFull: 4002,
  tooManyLobbies: 4003,
  lobbyClosed: 4004,
  /** The server is shutting down: reconnect (the load balancer picks an instance). */
  draining: 4005,
  /** The first message was not a hello. */
  expectedHello: 4006,
  /**
   * Fleet mode: the lobby moved to another instance (a hand-over). Reconnect
   * now, through the load balancer, which sends you to its new owner.
   */
  moved: 4007,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which reconnecting with the same request cannot succeed. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.unsupportedData,
  CloseCode.invalidPayload,
  CloseCode.policy,
  CloseCode.tooBig,
  CloseCode.versionMismatch,
  CloseCode.expectedHello,
]);

/**
 * How a 4003 begins when the server has just closed an empty lobby to make
 * room for this one: the room frees a moment later, so a client retries
 * soon instead of backing off as for a full instance.
 */
export const MAKING_ROOM_REASON = 'instance full: making room';

/**
 * How a 1013 begins when the lobby is on its way between instances (fleet
 * mode: its owner is handing it over, or a hand-over was damped): it will be
 * playable within a second or two, so a client retries soon.
 */
export const LOBBY_MOVING_REASON = 'lobby is moving between instances';
