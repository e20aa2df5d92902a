/**
 * The page at /lobby/:id. Until the WebGL client lands (its own issue) it
 * tells a visitor where the lobby's socket is and shows its live status.
 */
const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function lobbyPage(lobbyId: string): string {
  const id = escapeHtml(lobbyId);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>swarmhost · ${id}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>Lobby <code>${id}</code></h1>
<p>Game socket: <code id="ws"></code> (binary msgpack, see docs/PROTOCOL.md).</p>
<pre id="status">loading status…</pre>
<script>
const id = ${JSON.stringify(lobbyId)};
document.getElementById('ws').textContent = location.origin.replace(/^http/, 'ws') + '/lobby/' + encodeURIComponent(id) + '/ws';
async function refresh() {
  const res = await fetch('/lobbies/' + encodeURIComponent(id));
  document.getElementById('status').textContent = res.ok ? JSON.stringify(await res.json(), null, 2) : 'not created yet: it starts when the first client joins';
}
refresh(); setInterval(refresh, 1000);
</script>
</body></html>`;
}
