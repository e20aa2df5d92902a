/**
 * Protocol version. Owns the one number both ends compare in the handshake.
 * Bump it on any change to a message, a field's meaning or a byte layout.
 */
export const PROTOCOL_VERSION = 3;
