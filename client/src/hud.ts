/**
 * The heads-up display of the lobby page: lobby id and copy-link button,
 * connection state (with the banner for reconnecting, waiting and refusals),
 * the lobby status from status messages, and the live numbers, which a
 * toggle hides (collapsed by default on narrow screens, remembered for the
 * tab's session). It only writes the DOM of lobby.html; main.ts decides
 * what to show and when.
 */
import type { StatusView } from '../../protocol/index.js';
import type { ConnectionState } from './connection.js';

export interface HudNumbers {
  tick: number;
  fps: number;
  rttMs: number;
  /** Age of the state being drawn (server send to screen, clock-corrected), ms; NaN: not known yet. */
  ageMs: number;
  downKBps: number;
  skipped: number;
  /** Newest seq sent this connection (-1: none) and the newest the server acknowledged. */
  seqSent: number;
  ack: number;
}

/** How long a notice (a refused burst, say) stays up. */
const NOTICE_MS = 4000;

/** Below this width (CSS px: phones) the HUD starts collapsed: expanded it would cover a third of the view. */
const NARROW_SCREEN_PX = 600;

/** Where the page remembers, for this tab's session, whether the HUD was collapsed. */
const COLLAPSED_KEY = 'swarmhost.hud.collapsed';

export class Hud {
  readonly #doc: Document;
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Called by the banner's button (try now, reload). */
  onBannerAction: (() => void) | undefined;

  constructor(doc: Document, lobbyId: string) {
    this.#doc = doc;
    doc.title = `${lobbyId} · swarmhost`;
    this.#el('lobby-id').textContent = lobbyId;
    this.#el('copy-link').addEventListener('click', () => void this.#copyLink());
    this.#el('banner-action').addEventListener('click', () => this.onBannerAction?.());
    this.#setCollapsed(initiallyCollapsed(doc));
    this.#el('hud-toggle').addEventListener('click', () => {
      const collapsed = !this.collapsed;
      this.#setCollapsed(collapsed);
      remember(collapsed);
    });
  }

  /** Whether only the header and connection line show (the numbers are hidden). */
  get collapsed(): boolean {
    return this.#el('hud').dataset.collapsed !== undefined;
  }

  #setCollapsed(collapsed: boolean): void {
    const hud = this.#el('hud');
    if (collapsed) hud.dataset.collapsed = '';
    else delete hud.dataset.collapsed;
    this.#el('hud-details').hidden = collapsed;
    const toggle = this.#el('hud-toggle');
    toggle.setAttribute('aria-expanded', String(!collapsed));
    toggle.textContent = collapsed ? 'show' : 'hide';
  }

  #el(id: string): HTMLElement {
    return this.#doc.getElementById(id)!;
  }

  #set(id: string, text: string): void {
    const el = this.#el(id);
    // Writing the same text still costs a style recalc in some browsers.
    if (el.textContent !== text) el.textContent = text;
  }

  /** The connection line and, when not live, the banner. `now` is performance.now(). */
  showConnection(state: ConnectionState, now: number): void {
    const seconds = (at: number) => `${Math.max(0, (at - now) / 1000).toFixed(1)} s`;
    let line: string;
    let banner: string | undefined;
    let action: string | undefined;
    switch (state.kind) {
      case 'connecting':
        line = state.attempt === 0 ? 'connecting…' : `reconnecting… (attempt ${state.attempt})`;
        banner = state.attempt === 0 ? undefined : line;
        break;
      case 'live':
        line = 'live';
        break;
      case 'reconnecting':
        line = `reconnecting… (attempt ${state.attempt}, next in ${seconds(state.retryAt)})`;
        banner = `reconnecting… ${state.reason}; next try in ${seconds(state.retryAt)}`;
        action = 'try now';
        break;
      case 'waiting':
        line = `waiting: ${state.reason}`;
        banner = `${state.reason} (code ${state.code}); trying again in ${seconds(state.retryAt)}`;
        action = 'try now';
        break;
      case 'refused':
        line = `refused: ${state.reason}`;
        banner = `The server refused this connection: ${state.reason} (code ${state.code})`;
        action = 'reload';
        break;
    }
    const conn = this.#el('conn');
    const kind = state.kind === 'connecting' && state.attempt > 0 ? 'reconnecting' : state.kind;
    conn.dataset.state = kind;
    this.#set('conn', line);
    this.#showBanner(kind, banner, action);
  }

  /** A page-level failure (no WebGL2): the banner says so and stays. */
  showUnsupported(text: string): void {
    this.#el('conn').dataset.state = 'unsupported';
    this.#set('conn', 'not supported');
    this.#showBanner('unsupported', text, undefined);
  }

  showStatus(status: StatusView): void {
    this.#set('phase', status.phase);
    this.#set('clients', String(status.clients));
    this.#set(
      'particles',
      `${status.particles.toLocaleString('en')} / ${status.maxParticles.toLocaleString('en')}`,
    );
  }

  showNumbers(n: HudNumbers): void {
    this.#set('tick', n.tick < 0 ? '–' : String(n.tick));
    this.#set('fps', n.fps.toFixed(0));
    this.#set('rtt', Number.isFinite(n.rttMs) ? `${n.rttMs.toFixed(1)} ms` : '–');
    this.#set('age', Number.isFinite(n.ageMs) ? `${n.ageMs.toFixed(0)} ms` : '–');
    this.#set('down', `${n.downKBps.toFixed(1)} kB/s`);
    this.#set('skipped', String(n.skipped));
    this.#set(
      'inputs',
      n.seqSent < 0 ? 'none yet' : `#${n.seqSent} / ${n.ack < 0 ? 'none' : `#${n.ack}`}`,
    );
  }

  notice(text: string): void {
    const el = this.#el('notice');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => {
      el.hidden = true;
    }, NOTICE_MS);
  }

  #showBanner(kind: string, text: string | undefined, action: string | undefined): void {
    const banner = this.#el('banner');
    banner.hidden = text === undefined;
    banner.dataset.state = kind;
    this.#set('banner-text', text ?? '');
    const button = this.#el('banner-action');
    button.hidden = action === undefined;
    this.#set('banner-action', action ?? '');
  }

  async #copyLink(): Promise<void> {
    const url = location.href;
    try {
      // The async clipboard needs a secure context (https or localhost).
      await navigator.clipboard.writeText(url);
      this.notice('link copied');
    } catch {
      window.prompt('Copy this link:', url);
    }
  }
}

/** The session's choice if there is one, else collapsed on a narrow screen. */
function initiallyCollapsed(doc: Document): boolean {
  try {
    const saved = sessionStorage.getItem(COLLAPSED_KEY);
    if (saved !== null) return saved === 'true';
  } catch {
    // Storage can be refused (privacy settings, sandboxed frames): use the default.
  }
  return doc.defaultView?.matchMedia(`(max-width: ${NARROW_SCREEN_PX - 0.02}px)`).matches ?? false;
}

function remember(collapsed: boolean): void {
  try {
    sessionStorage.setItem(COLLAPSED_KEY, String(collapsed));
  } catch {
    // Not remembered; the toggle still works.
  }
}
