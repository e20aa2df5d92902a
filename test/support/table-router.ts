/**
 * A TCP-level HTTP/WebSocket router for fleet tests, standing in for nginx or
 * HAProxy: it owns a table lobby id → instance name (the test writes it, like
 * a hash ring decides) and instance name → port, and the connections it
 * forwards.
 *
 * Per connection it reads the request head (bounded, with a timeout), takes
 * the lobby id from `/lobby/<id>`, `/lobby/<id>/ws` or `/lobbies/<id>`, picks
 * the instance (the default for other paths and unknown ids), connects to
 * 127.0.0.1:port, writes the head and pipes both ways, so WebSocket upgrades
 * just work. One request per connection: a plain request is sent with
 * `Connection: close`, or a keep-alive client (fetch) would send its next
 * request, for another lobby, down the same pipe. Table changes leave open
 * connections alone, as a real balancer does. A name without a port, or a
 * port nobody listens on, is answered 502.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/** Largest request head read before routing; a bigger one is refused (431). */
const MAX_HEAD_BYTES = 16 * 1024;
/** A client that has not sent its whole head by then is refused (408). */
const HEAD_TIMEOUT_MS = 5000;
const LOBBY_PATH = /^\/(?:lobby\/([^/?#]+)(?:\/ws)?|lobbies\/([^/?#]+))\/?(?:[?#]|$)/;

export interface TableRouter {
  port: number;
  url: string;
  /** Sends new connections for lobby `id` to instance `name`. */
  route(id: string, name: string): void;
  /** Forgets lobby `id`: it goes to the default again. */
  unroute(id: string): void;
  /** The instance for other paths and unrouted ids (undefined: 502). */
  setDefault(name: string | undefined): void;
  setInstance(name: string, port: number): void;
  removeInstance(name: string): void;
  /** Connections forwarded to `name` since the start (those that reached it). */
  connections(name: string): number;
  /** The instance name a request for `path` would go to now. */
  targetOf(path: string): string | undefined;
  close(): Promise<void>;
}

export async function startTableRouter(
  options: { defaultTarget?: string } = {},
): Promise<TableRouter> {
  const table = new Map<string, string>();
  const ports = new Map<string, number>();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  let fallback = options.defaultTarget;

  const targetOf = (path: string) => {
    const match = LOBBY_PATH.exec(path);
    const id = match?.[1] ?? match?.[2];
    return (id !== undefined ? table.get(id) : undefined) ?? fallback;
  };

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    return socket;
  };

  /** An HTTP error in the server's shape, `{error, message}`, and the connection's end. */
  const refuse = (client: Socket, status: string, error: string, message: string) => {
    const body = JSON.stringify({ error, message });
    client.end(
      `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };

  const forward = (client: Socket, head: Buffer) => {
    const text = head.toString('latin1');
    const [requestLine, ...headers] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
    const name = targetOf(requestLine.split(' ')[1] ?? '');
    const port = name === undefined ? undefined : ports.get(name);
    if (name === undefined || port === undefined) {
      const message = `no port for instance '${name ?? '(no default)'}'`;
      return refuse(client, '502 Bad Gateway', 'bad_gateway', message);
    }
    let out = head;
    if (!headers.some((line) => /^upgrade:/i.test(line))) {
      const kept = headers.filter((line) => !/^connection:/i.test(line));
      const rest = head.subarray(text.indexOf('\r\n\r\n') + 4);
      const rewritten = [requestLine, ...kept, 'connection: close', '', ''].join('\r\n');
      out = Buffer.concat([Buffer.from(rewritten, 'latin1'), rest]);
    }
    const upstream = track(connect(port, '127.0.0.1'));
    client.pause();
    upstream.once('error', () =>
      refuse(client, '502 Bad Gateway', 'bad_gateway', `instance '${name}' is down`),
    );
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      counts.set(name, (counts.get(name) ?? 0) + 1);
      upstream.write(out);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
    });
  };

  const server: Server = createServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const stopReading = () => {
      client.off('data', onData);
      client.setTimeout(0);
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.indexOf('\r\n\r\n') >= 0) {
        stopReading();
        forward(client, head);
      } else if (head.length > MAX_HEAD_BYTES) {
        stopReading();
        refuse(client, '431 Request Header Fields Too Large', 'head_too_large', 'head too big');
      }
    };
    client.on('data', onData);
    client.setTimeout(HEAD_TIMEOUT_MS, () => {
      stopReading();
      refuse(client, '408 Request Timeout', 'head_timeout', 'no request head in time');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    route: (id, name) => void table.set(id, name),
    unroute: (id) => void table.delete(id),
    setDefault: (name) => void (fallback = name),
    setInstance: (name, instancePort) => void ports.set(name, instancePort),
    removeInstance: (name) => void ports.delete(name),
    connections: (name) => counts.get(name) ?? 0,
    targetOf,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
