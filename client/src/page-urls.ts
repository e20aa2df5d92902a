/**
 * Every URL the two pages use, derived from where the page itself was
 * loaded, never written as an absolute path. Behind a proxy that serves
 * swarmhost under a path prefix and strips it (nginx `location /swarm/ {
 * proxy_pass http://upstream/; }`), the landing page is `/swarm/` and a
 * lobby `/swarm/lobby/<id>`: an absolute `/assets/...`, `/lobbies` or
 * `/lobby/<id>/ws` would leave the prefix and reach nothing. Relative
 * references resolve against the page's own URL, so the same build works
 * at the root and under any prefix that ends in `/`.
 *
 * The HTML pages say the same in their markup: the landing page links
 * `assets/...`, the lobby page (one level down) `../assets/...` and `../`.
 */

/** The landing page's lobby list, relative to the landing page. */
export const LOBBIES_API = 'lobbies';

/** A lobby's page, relative to the landing page (`/swarm/` → `/swarm/lobby/<id>`). */
export function lobbyPageHref(id: string): string {
  return `lobby/${encodeURIComponent(id)}`;
}

/**
 * The lobby id of a lobby page's path: its last `lobby/<id>` segment pair,
 * whatever prefix stands before it ('' when the path is not a lobby page).
 */
export function lobbyIdFromPath(pathname: string): string {
  const match = /\/lobby\/([^/]+)\/?$/.exec(pathname);
  if (!match) return '';
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return '';
  }
}

/** What socketUrl reads of `location`. */
export interface PageLocation {
  protocol: string;
  host: string;
  pathname: string;
}

/**
 * The lobby's socket: the page's own path plus `/ws`, on the page's host,
 * `wss` when the page came over https. The path is used as the browser
 * sent it (already percent-encoded), so the socket reaches the same lobby
 * through the same prefix as the page did.
 */
export function socketUrl(page: PageLocation): string {
  const scheme = page.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${page.host}${page.pathname.replace(/\/+$/, '')}/ws`;
}
