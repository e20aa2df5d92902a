/**
 * The HTML a browser gets instead of a JSON error on a page route: a
 * heading, one sentence on what is wrong, and a link back to the lobby
 * list (relative, so it stays under a proxy's path prefix). Self-contained
 * (inline style, no script, no asset), so it works even when the client is
 * not built; every piece of text is HTML-escaped here, so callers may pass
 * what the request said.
 */
import type { FastifyRequest } from 'fastify';

/** Whether the client asked for a page (a browser navigating) rather than data. */
export function wantsHtml(request: FastifyRequest): boolean {
  return /\btext\/html\b/i.test(request.headers.accept ?? '');
}

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A whole page; `title` and `text` are plain text (escaped here). `home` is
 * the landing page relative to this page (homeHref): an absolute `/` would
 * leave a proxy's path prefix.
 */
export function errorPage(title: string, text: string, home: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t} · swarmhost</title>
<link rel="icon" href="data:,">
<style>
  :root { color-scheme: dark; font: 16px / 1.5 system-ui, sans-serif; }
  body { margin: 0; background: #0b0e14; color: #d8dee9; }
  main { max-width: 36rem; margin: 15vh auto 0; padding: 0 1rem; }
  h1 { font-size: 1.4rem; }
  a { color: #7fd1ff; }
</style>
</head>
<body>
<main>
<h1>${t}</h1>
<p id="reason">${escapeHtml(text)}</p>
<p><a href="${escapeHtml(home)}">All lobbies</a></p>
</main>
</body>
</html>
`;
}

/**
 * The landing page as a reference relative to the request's path: `../`
 * once per directory level below the root (`/lobby/x` → `../`,
 * `/lobby/x/` → `../../`), so it resolves to `/` here and to `/swarm/`
 * behind a proxy that serves us under `/swarm/`.
 */
export function homeHref(url: string): string {
  const path = url.split('?', 1)[0];
  const depth = (path.match(/\//g)?.length ?? 1) - 1;
  return depth <= 0 ? './' : '../'.repeat(depth);
}
