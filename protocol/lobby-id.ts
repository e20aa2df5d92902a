/** The lobby id rule, shared by the server's routes and the browser's form. */
export const LOBBY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The rule in words, for people (the bad-id page, the landing form). */
export const LOBBY_ID_RULE = 'a lobby id is 1 to 64 letters (A–Z, a–z), digits, "-" or "_"';

/** The HTTP 400 body for an id that breaks the rule. */
export const BAD_LOBBY_ID = {
  error: 'bad_lobby_id',
  message: 'lobby ids match [A-Za-z0-9_-]{1,64}',
} as const;
