/**
 * The landing page (/): the lobbies on this instance, or in fleet mode on
 * every instance with the one that runs each (GET /lobbies, polled)
 * and a form that opens lobby/<name> (every URL relative to the page, so
 * it works under a proxy's path prefix: page-urls.ts). Joining a name that
 * does not exist creates that lobby at the server's default size, so the
 * form needs no REST call; creating lobbies of other sizes is an admin route
 * (POST /lobbies with the admin token), not a player's.
 */
import { LOBBY_ID_PATTERN, type LobbyStatus } from '../../protocol/index.js';
import { LOBBIES_API, lobbyPageHref } from './page-urls.js';

const REFRESH_MS = 2000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function showError(id: string, text: string | undefined): void {
  const el = $(id);
  el.hidden = text === undefined;
  el.textContent = text ?? '';
}

async function refresh(): Promise<void> {
  try {
    // Relative (page-urls.ts): under a proxy's path prefix this is <prefix>/lobbies.
    const res = await fetch(LOBBIES_API, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`GET lobbies answered ${res.status}`);
    // In fleet mode every instance's lobbies, each with the instance that runs it.
    const { lobbies } = (await res.json()) as { lobbies: Array<LobbyStatus & { owner?: string }> };
    lobbies.sort((a, b) => b.clients - a.clients || a.id.localeCompare(b.id));
    const rows = lobbies.map((lobby) => {
      const row = document.createElement('tr');
      row.dataset.lobby = lobby.id;
      const link = document.createElement('a');
      link.href = lobbyPageHref(lobby.id);
      link.textContent = lobby.id;
      const cells = [
        link,
        lobby.owner === undefined ? lobby.phase : `${lobby.phase} (on ${lobby.owner})`,
        String(lobby.clients),
        lobby.particles.toLocaleString('en'),
      ];
      for (const content of cells) {
        const cell = document.createElement('td');
        cell.append(content);
        row.append(cell);
      }
      return row;
    });
    $('lobbies')
      .querySelector('tbody')!
      .replaceChildren(...rows);
    $('lobbies-empty').hidden = lobbies.length > 0;
    showError('lobbies-error', undefined);
  } catch (error) {
    showError('lobbies-error', `Could not load the lobbies: ${(error as Error).message}`);
  }
}

function openLobby(event: SubmitEvent): void {
  event.preventDefault();
  const id = $<HTMLInputElement>('lobby-name').value.trim();
  if (!LOBBY_ID_PATTERN.test(id)) {
    return showError('form-error', 'A lobby name is 1 to 64 letters, digits, "-" or "_".');
  }
  showError('form-error', undefined);
  location.assign(lobbyPageHref(id));
}

function randomName(): string {
  const words = ['swift', 'amber', 'quiet', 'bright', 'lunar', 'coral', 'rapid', 'misty'];
  return `${words[Math.floor(Math.random() * words.length)]}-${Math.random().toString(36).slice(2, 6)}`;
}

const name = $<HTMLInputElement>('lobby-name');
if (name.value === '') name.value = randomName();
$<HTMLFormElement>('open-lobby').addEventListener('submit', openLobby);
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
