/**
 * Viewport subscriptions over real sockets: a view client gets exactly the
 * particles of its tiles, byte-equal to the whole world's; bad `view`
 * messages are answered and counted; clients with the same view share tile
 * encodes; back to the whole world starts with a keyframe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gridBitsFor, tileCover, tileHolds } from '../../protocol/view-grid.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';
import {
  encodeNode,
  type IntFormat,
  int,
  numberNode,
  record,
  str,
} from '../support/msgpack-bytes.js';

/** A view whose x is `value` written as `format`: every msgpack integer width. */
const viewWithX = (value: number, format: IntFormat): Uint8Array =>
  encodeNode(
    record({
      t: str('view'),
      x: int(value, format),
      y: numberNode(1),
      w: numberNode(10),
      h: numberNode(10),
    }),
  );

async function counter(server: TestServer, name: string, labels: Record<string, string>) {
  const metric = await server.app.metrics.registry.getSingleMetric(name)?.get();
  return (
    metric?.values
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((sum, v) => sum + v.value, 0) ?? 0
  );
}

const RECT = { x: 900, y: 100, w: 316, h: 316 }; // crosses the x seam

describe('viewport subscriptions', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 3000 });
  });
  afterAll(async () => server.close());

  it('a view client gets the particles of its tiles, positions equal to the whole frame', async () => {
    const whole = new Map<number, Uint16Array>();
    const world = await joinLobby(server, 'v1', {
      frame: (m, c) => {
        whole.set(m.tick, c.decoder!.positions.slice());
      },
    });
    let checked = 0;
    let mismatches = 0;
    const viewer = await joinLobby(server, 'v1', {
      frame: (m, c) => {
        if (m.kind !== 'view') return;
        const bits = c.welcome!.quantBits;
        const g = gridBitsFor(bits);
        const tiles = tileCover(RECT, c.welcome!.worldSize, g);
        const ref = whole.get(m.tick);
        if (!ref) return;
        const view = c.view!;
        for (let i = 0; i < m.n; i++) {
          const inView = tiles.some((t) => tileHolds(t, ref[2 * i], ref[2 * i + 1], bits, g));
          if (inView !== (view.present[i] === 1)) mismatches++;
          else if (
            inView &&
            (view.positions[2 * i] !== ref[2 * i] || view.positions[2 * i + 1] !== ref[2 * i + 1])
          )
            mismatches++;
        }
        checked++;
      },
    });
    viewer.setView(RECT);
    await waitFor(() => checked >= 60, 10_000, '60 view frames checked');
    expect(mismatches).toBe(0);
    expect(viewer.view!.presentCount).toBeGreaterThan(0);
    expect(viewer.view!.presentCount).toBeLessThan(3000 * 0.5);
    // Switching back: a keyframe, then whole frames.
    const keysBefore = viewer.keyframes;
    viewer.setView(undefined);
    await waitFor(() => viewer.keyframes > keysBefore, 5000, 'a keyframe after the view');
    const framesAt = viewer.frames;
    await waitFor(() => viewer.frames > framesAt + 5, 5000, 'whole frames');
    expect(viewer.decoder!.count).toBe(3000);
    world.close();
    viewer.close();
  });

  it('clients with the same view share one encode per tile per tick', async () => {
    const a = await joinLobby(server, 'v2');
    a.setView(RECT);
    await waitFor(() => a.viewFrames > 30, 10_000, 'a streams views');
    const perTick = async () => {
      const { handle } = server.app.directory.get('v2')!;
      const e0 = await counter(server, 'swarmhost_tile_encodes_total', {});
      const t0 = handle.tick;
      await waitFor(() => handle.tick >= t0 + 60, 10_000, '60 ticks');
      return (
        ((await counter(server, 'swarmhost_tile_encodes_total', {})) - e0) / (handle.tick - t0)
      );
    };
    const one = await perTick();
    const b = await joinLobby(server, 'v2');
    b.setView(RECT);
    await waitFor(() => b.viewFrames > 30, 10_000, 'b streams views');
    const two = await perTick();
    const tiles = tileCover(RECT, 1000, gridBitsFor(14)).length;
    expect(one).toBeLessThanOrEqual(tiles * 1.2);
    // A second client in step adds (almost) nothing.
    expect(two).toBeLessThan(one * 1.3);
    a.close();
    b.close();
  });

  it('answers bad view messages, counts them, and carries on', async () => {
    const c = await joinLobby(server, 'v3');
    const invalid0 = await counter(server, 'swarmhost_inputs_total', { result: 'invalid' });
    const range0 = await counter(server, 'swarmhost_inputs_total', { result: 'out_of_range' });
    const bad: [object | Uint8Array, string][] = [
      [{ t: 'view', x: 1 }, 'invalid_message'],
      [{ t: 'view', x: 1, y: 2, w: 3 }, 'invalid_message'],
      [{ t: 'view', x: '1', y: 2, w: 3, h: 4 }, 'invalid_message'],
      [{ t: 'view', x: 1, y: 2, w: 3, h: true }, 'invalid_message'],
      [{ t: 'view', x: Number.NaN, y: 2, w: 3, h: 4 }, 'out_of_range'],
      [{ t: 'view', x: 1, y: Number.POSITIVE_INFINITY, w: 3, h: 4 }, 'out_of_range'],
      [{ t: 'view', x: -1, y: 2, w: 3, h: 4 }, 'out_of_range'],
      [{ t: 'view', x: 1000, y: 2, w: 3, h: 4 }, 'out_of_range'],
      [{ t: 'view', x: 1, y: 2, w: 0, h: 4 }, 'out_of_range'],
      [{ t: 'view', x: 1, y: 2, w: 3, h: 1000.5 }, 'out_of_range'],
      [{ t: 'view', x: 1, y: 2, w: 3, h: -0.5 }, 'out_of_range'],
      [{ t: 'view', x: 1, y: 2, w: 'wide', h: 4 }, 'invalid_message'],
      [{ t: 'view', x: '\u{1F41D}\u00e9', y: 2, w: 3, h: 4 }, 'invalid_message'],
      [viewWithX(-1, 'negFixint'), 'out_of_range'],
      [viewWithX(-128, 'int8'), 'out_of_range'],
      [viewWithX(-32768, 'int16'), 'out_of_range'],
      [viewWithX(-(2 ** 31), 'int32'), 'out_of_range'],
      [viewWithX(-(2 ** 40), 'int64'), 'out_of_range'],
      [viewWithX(65535, 'uint16'), 'out_of_range'],
      [viewWithX(2 ** 32 - 1, 'uint32'), 'out_of_range'],
      [viewWithX(2 ** 40, 'uint64'), 'out_of_range'],
    ];
    for (const [message] of bad) {
      if (message instanceof Uint8Array) c.socket.send(message);
      else c.sendRaw(message);
    }
    await waitFor(() => c.errors.length >= bad.length, 5000, 'an error per bad view');
    expect(c.errors.map((e) => e.code)).toEqual(bad.map(([, code]) => code));
    const invalid = bad.filter(([, code]) => code === 'invalid_message').length;
    expect(
      (await counter(server, 'swarmhost_inputs_total', { result: 'invalid' })) - invalid0,
    ).toBe(invalid);
    expect(
      (await counter(server, 'swarmhost_inputs_total', { result: 'out_of_range' })) - range0,
    ).toBe(bad.length - invalid);
    // Valid views in small integer widths are taken; the connection carries on.
    c.socket.send(viewWithX(127, 'posFixint'));
    c.socket.send(viewWithX(255, 'uint8'));
    c.setView({ x: 0, y: 0, w: 1000, h: 100 });
    await waitFor(() => c.viewFrames > 5, 5000, 'view frames after bad views');
    expect(c.closeCode).toBeUndefined();
    c.close();
  });
});
