/**
 * Vitest global setup: builds the browser client once before any test file
 * runs, so the system tests load the client of this checkout (the server
 * serves dist/client/, see src/routes/page-routes.ts).
 */
import { buildClient } from '../../client/build.js';

export default async function setup(): Promise<void> {
  await buildClient();
}
