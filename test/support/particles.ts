/** What tests ask of a protocol client's reconstructed particles. */
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { dequantize } from '../../protocol/quantize.js';

/** Particles within `radius` (toroidal distance) of (px, py), as the client holds them. */
export function particlesNear(client: LobbyClient, px: number, py: number, radius: number): number {
  const { worldSize, quantBits } = client.welcome!;
  const positions = client.decoder!.positions;
  let inside = 0;
  for (let i = 0; i < positions.length; i += 2) {
    let dx = Math.abs(dequantize(positions[i], worldSize, quantBits) - px);
    let dy = Math.abs(dequantize(positions[i + 1], worldSize, quantBits) - py);
    dx = Math.min(dx, worldSize - dx);
    dy = Math.min(dy, worldSize - dy);
    if (dx * dx + dy * dy < radius * radius) inside++;
  }
  return inside;
}
