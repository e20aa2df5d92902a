/**
 * Caps on TCP connections, applied on accept before a byte is parsed, so
 * neither one address nor everyone together can run the process out of
 * file descriptors (slow request bodies, idle sockets, half-open upgrades):
 * - a total (Node's `server.maxConnections`: beyond it new connections are
 *   dropped);
 * - per peer address, only when no proxy is trusted: behind a proxy every
 *   peer is the proxy, and per-client limits belong there (and to the game
 *   socket caps, which see the forwarded address).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from './config.js';
import type { Metrics } from './metrics.js';

export function limitConnections(server: Server, config: Config, metrics: Metrics): void {
  server.maxConnections = config.maxConnections;
  server.on('drop', () => metrics.connectionsDropped.inc({ cap: 'total' }));
  // Fastify answers these (408, 431, 400) and logs them at trace only:
  // count them, so slow or malformed requests show.
  server.on('clientError', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ECONNRESET') return;
    metrics.httpClientErrors.inc({ kind: clientErrorKind(error.code) });
  });
  if (config.trustProxy !== '') return;
  const byAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const held = byAddress.get(address) ?? 0;
    if (held >= config.maxConnectionsPerIp) {
      metrics.connectionsDropped.inc({ cap: 'per_ip' });
      socket.destroy();
      return;
    }
    byAddress.set(address, held + 1);
    socket.once('close', () => {
      const left = (byAddress.get(address) ?? 1) - 1;
      if (left > 0) byAddress.set(address, left);
      else byAddress.delete(address);
    });
  });
}

/** A bounded label for Node's HTTP parser and timeout errors. */
function clientErrorKind(code: string | undefined): 'timeout' | 'header_overflow' | 'malformed' {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'timeout';
  if (code === 'HPE_HEADER_OVERFLOW') return 'header_overflow';
  return 'malformed';
}

/** SWARMHOST_TRUST_PROXY as Fastify's trustProxy option. */
export function trustProxyOption(
  setting: string,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (setting === '' || setting === 'false') return false;
  if (setting === 'true') return true;
  if (/^\d+$/.test(setting)) {
    // Trust the nearest N hops, as Fastify does for a number.
    const hops = Number(setting);
    return (_address, hop) => hop < hops;
  }
  return setting.split(',').map((entry) => entry.trim());
}
