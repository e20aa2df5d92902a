/**
 * The landing page (/): the lobbies on this instance (GET /lobbies, polled)
 * and a form that creates a lobby by name (POST /lobbies) or, if it exists,
 * joins it, then navigates to /lobby/<name>.
 */
import type { LobbyStatus } from '../../protocol/messages.js';
import { LOBBY_ID_PATTERN } from '../../protocol/lobby-id.js';

const REFRESH_MS = 2000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function lobbyUrl(id: string): string {
  return `/lobby/${encodeURIComponent(id)}`;
}

function showError(id: string, text: string | undefined): void {
  const el = $(id);
  el.hidden = text === undefined;
  el.textContent = text ?? '';
}

async function refresh(): Promise<void> {
  try {
    const res = await fetch('/lobbies', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`GET /lobbies answered ${res.status}`);
    const { lobbies } = (await res.json()) as { lobbies: LobbyStatus[] };
    lobbies.sort((a, b) => b.clients - a.clients || a.id.localeCompare(b.id));
    const rows = lobbies.map((lobby) => {
      const row = document.createElement('tr');
      row.dataset.lobby = lobby.id;
      const link = document.createElement('a');
      link.href = lobbyUrl(lobby.id);
      link.textContent = lobby.id;
      const cells = [
        link,
        lobby.phase,
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

async function openLobby(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const id = $<HTMLInputElement>('lobby-name').value.trim();
  if (!LOBBY_ID_PATTERN.test(id)) {
    return showError('form-error', 'A lobby name is 1 to 64 letters, digits, "-" or "_".');
  }
  const particlesText = $<HTMLInputElement>('lobby-particles').value.trim();
  const body: { id: string; particles?: number } = { id };
  if (particlesText !== '') body.particles = Number(particlesText);
  showError('form-error', undefined);
  try {
    const res = await fetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    // 201 created; 409 it exists already, so this is a join.
    if (res.status === 201 || res.status === 409) {
      location.assign(lobbyUrl(id));
      return;
    }
    const answer = (await res.json().catch(() => ({}))) as { message?: string };
    showError('form-error', `The server refused: ${answer.message ?? `HTTP ${res.status}`}`);
  } catch (error) {
    showError('form-error', `Could not reach the server: ${(error as Error).message}`);
  }
}

function randomName(): string {
  const words = ['swift', 'amber', 'quiet', 'bright', 'lunar', 'coral', 'rapid', 'misty'];
  return `${words[Math.floor(Math.random() * words.length)]}-${Math.random().toString(36).slice(2, 6)}`;
}

const name = $<HTMLInputElement>('lobby-name');
if (name.value === '') name.value = randomName();
$<HTMLFormElement>('open-lobby').addEventListener('submit', (event) => void openLobby(event));
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
