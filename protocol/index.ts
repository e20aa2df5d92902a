/**
 * protocol/'s public surface: what lobbies/, src/, client/ and bench/ use of
 * the wire format, and nothing more (test/unit/layering.test.ts fails on an
 * import that goes around this file, and on an export here nobody outside
 * protocol/ uses). Files inside protocol/ import each other directly, never
 * this file.
 */
export { closeReason, quoteClientText } from './client-text.js';
export {
  CloseCode,
  LOBBY_MOVING_REASON,
  MAKING_ROOM_REASON,
} from './close-codes.js';
export { decodeMessage, encodeMessage } from './envelope.js';
export { ErrorCode, type ErrorCodeValue } from './error-codes.js';
export {
  canPredict,
  DELTA_BLOCK,
  encodeDelta,
  encodeKeyframe,
  FrameDecoder,
  MAX_RICE_K,
  type QuantizedFrame,
  RICE_ESCAPE,
} from './frame-codec.js';
export { encodeFrameHead, encodeFrameMessage, frameDataTail } from './frame-envelope.js';
export { LobbyClient, type PingSample, type SocketLike } from './lobby-client.js';
export { BAD_LOBBY_ID, LOBBY_ID_PATTERN, LOBBY_ID_RULE } from './lobby-id.js';
export { LOBBY_PHASE_RULES, LOBBY_PHASES, type LobbyPhase } from './lobby-phase.js';
export {
  type ClientMessage,
  type ErrorMessage,
  type FrameKind,
  type FrameMessage,
  type InputMode,
  type LobbyInput,
  type LobbyStatus,
  MAX_SEQ,
  parseClientMessage,
  SEND_RATES,
  type SendRate,
  type ServerMessage,
  STATS_FIELDS,
  STATS_REPORT_INTERVAL_MS,
  type StatsReport,
  type StatusMessage,
  type StatusView,
  type WelcomeMessage,
} from './messages.js';
export { MAX_QUANT_ERROR, quantBitsFor, quantizePositions } from './quantize.js';
export { type ReconnectState, ReconnectingLobbyClient } from './reconnecting-client.js';
export { PROTOCOL_VERSION } from './version.js';
export {
  assembleViewData,
  type EncodedChunk,
  encodeTileDelta,
  encodeTileKey,
  tileMembers,
  type ViewChunk,
} from './view-codec.js';
export {
  buildTileIndex,
  gridBitsFor,
  holdsTile,
  type TileIndex,
  tileCover,
  type ViewRect,
} from './view-grid.js';
