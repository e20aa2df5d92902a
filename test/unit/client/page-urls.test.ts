import { describe, expect, it } from 'vitest';
import {
  LOBBIES_API,
  lobbyIdFromPath,
  lobbyPageHref,
  socketUrl,
} from '../../../client/src/page-urls.js';

describe('page URLs', () => {
  it('derives the socket from the page, prefix and scheme included', () => {
    const at = (protocol: string, host: string, pathname: string) =>
      socketUrl({ protocol, host, pathname });
    expect(at('http:', '127.0.0.1:8080', '/lobby/demo')).toBe('ws://127.0.0.1:8080/lobby/demo/ws');
    expect(at('https:', 'games.example', '/swarm/lobby/demo')).toBe(
      'wss://games.example/swarm/lobby/demo/ws',
    );
    expect(at('http:', 'h', '/a/b/lobby/x_1/')).toBe('ws://h/a/b/lobby/x_1/ws');
  });

  it('reads the lobby id from the last lobby/<id> of the path', () => {
    expect(lobbyIdFromPath('/lobby/demo')).toBe('demo');
    expect(lobbyIdFromPath('/swarm/lobby/demo')).toBe('demo');
    expect(lobbyIdFromPath('/swarm/lobby/demo/')).toBe('demo');
    expect(lobbyIdFromPath('/lobby/lobby/x')).toBe('x');
    expect(lobbyIdFromPath('/')).toBe('');
    expect(lobbyIdFromPath('/lobby/%E0%A4%A')).toBe('');
  });

  it('names the landing page links and API relative to the page', () => {
    const resolve = (href: string, page: string) => new URL(href, page).pathname;
    expect(resolve(lobbyPageHref('a-b'), 'http://h/')).toBe('/lobby/a-b');
    expect(resolve(lobbyPageHref('a-b'), 'http://h/swarm/')).toBe('/swarm/lobby/a-b');
    expect(resolve(LOBBIES_API, 'http://h/swarm/')).toBe('/swarm/lobbies');
    expect(resolve(LOBBIES_API, 'http://h/')).toBe('/lobbies');
  });
});
