/**
 * The lobby page (/lobby/:id): wires the connection, the interpolation
 * buffer and playout clock, the camera and controls, the renderer, the HUD
 * and the experience meter with its stats reports, and runs the render loop. Each of those is its own file; this one
 * only decides what feeds what.
 */
import {
  SEND_RATES,
  type SendRate,
  type StatusView,
  type WelcomeMessage,
} from '../../protocol/index.js';
import { Camera } from './camera.js';
import { Connection } from './connection.js';
import { Culler } from './culling.js';
import { installDebug, type TimingSnapshot } from './debug.js';
import { ExperienceMeter } from './experience-meter.js';
import { Hud } from './hud.js';
import { Controls } from './input.js';
import { InputSender } from './input-sender.js';
import { InterpolationBuffer } from './interpolation.js';
import { PlayoutClock } from './playout-clock.js';
import { Timing, WindowedRate } from './rates.js';
import { lobbyIdFromPath, socketUrl } from './page-urls.js';
import { Renderer } from './renderer.js';
import { StatsReporter } from './stats-reporter.js';
import { ViewSubscription } from './view-subscription.js';

/** Default playout delay behind the newest frame; `?delay=ms` overrides it. */
const DEFAULT_DELAY_MS = 100;
/** A hidden tab draws nothing: it asks for the slowest send rate until it is seen again. */
const HIDDEN_TAB_RATE: SendRate = 10;
const MAX_DELAY_MS = 2000;
/** Particles per burst (capped by the server's maxSpawn). */
const BURST_SIZE = 200;
/** Snapshots beyond the delay kept for jitter: 12 ticks is 200 ms at 60 Hz. */
const JITTER_SNAPSHOTS = 12;
/** The HUD's numbers change this often: faster is unreadable. */
const HUD_INTERVAL_MS = 250;

/** What belongs to one welcomed socket: a reconnect replaces all of it. */
interface Session {
  welcome: WelcomeMessage;
  buffer: InterpolationBuffer;
  playout: PlayoutClock;
  lastTick: number;
  ack: number;
}

function delayFromQuery(search: string): number {
  const value = Number(new URLSearchParams(search).get('delay') ?? DEFAULT_DELAY_MS);
  return Number.isFinite(value) ? Math.min(MAX_DELAY_MS, Math.max(0, value)) : DEFAULT_DELAY_MS;
}

const timingSnapshot = (t: Timing): TimingSnapshot => ({
  count: t.count,
  totalMs: t.totalMs,
  meanMs: t.meanMs,
  p95Ms: t.recentQuantile(0.95),
});

function main(): void {
  const lobbyId = lobbyIdFromPath(location.pathname);
  const delayMs = delayFromQuery(location.search);
  const hud = new Hud(document, lobbyId);
  const canvas = document.getElementById('view') as HTMLCanvasElement;
  const renderer = Renderer.create(canvas);
  let session: Session | undefined;
  let status: StatusView | undefined;
  const camera = new Camera(1000);
  const culler = new Culler();
  const fps = new WindowedRate();
  const download = new WindowedRate();
  const timings = { decode: new Timing(), interpolate: new Timing(), draw: new Timing() };
  let framesReceived = 0;
  let viewFrames = 0;
  let worldParticles = 0;
  let framesSkipped = 0;
  let renderTick = Number.NaN;
  let visible = 0;
  let renderFrames = 0;
  // performance.now() and timeOrigin: the clock LobbyClient times pings with.
  const meter = new ExperienceMeter({
    now: () => performance.now(),
    timeOrigin: performance.timeOrigin,
  });

  // Derived from the page's own URL, so it works under a proxy's path prefix.
  const connection = new Connection(socketUrl(location), {
    welcome(welcome) {
      camera.setWorldSize(welcome.worldSize);
      const ticksOfDelay = Math.ceil((delayMs * welcome.tickRate) / 1000);
      session = {
        welcome,
        // Everything from the last socket is dropped: the keyframe that
        // follows the welcome is the new starting point.
        buffer: new InterpolationBuffer(
          welcome.worldSize,
          welcome.quantBits,
          welcome.tickRate,
          ticksOfDelay + JITTER_SNAPSHOTS,
        ),
        playout: new PlayoutClock({ tickRate: welcome.tickRate, delayMs }),
        lastTick: -1,
        ack: -1,
      };
      sender.reconnected();
      // A new socket starts with the whole world: ask again for the view.
      subscription.reset();
      // A fresh window per socket: nothing measured on the last one is reported on this one.
      meter.restart(welcome.tickRate);
      reporter.start();
    },
    frame(message, positions, present, receivedAt, decodeMs) {
      const s = session;
      if (!s) return;
      framesReceived++;
      if (message.kind === 'view') viewFrames++;
      worldParticles = message.n;
      // Ticks count server steps, so a jump means frames the server did
      // not send us (it skips them while our socket is backed up).
      if (s.lastTick >= 0 && message.tick > s.lastTick + 1)
        framesSkipped += message.tick - s.lastTick - 1;
      s.lastTick = message.tick;
      s.ack = message.ack;
      s.buffer.push(message.tick, positions, message.n, present);
      s.playout.onFrame(message.tick, receivedAt);
      meter.frame(message.tick, message.sent, decodeMs);
    },
    pong(sample) {
      meter.pong(sample);
    },
    status(message) {
      status = message;
      hud.showStatus(message);
    },
    error(message) {
      if (
        (message.code === 'inbox_full' || message.code === 'rate_limited') &&
        message.seq !== undefined
      ) {
        sender.refused(message.seq);
      }
      hud.notice(`server: ${message.message}`);
    },
    state(state) {
      if (state.kind !== 'live') reporter.stop();
      hud.showConnection(state, performance.now());
    },
  });
  connection.onMessageTimed = (ms, bytes) => {
    timings.decode.add(ms);
    download.add(bytes, performance.now());
  };
  const sender = new InputSender(connection);
  const subscription = new ViewSubscription((view) => connection.setView(view));
  const reporter = new StatsReporter({
    report: () => meter.report(),
    send: (report) => connection.sendStats(report),
  });
  hud.onBannerAction = () => {
    if (connection.state.kind === 'refused') location.reload();
    else connection.retryNow();
  };

  installDebug(() => ({
    state: renderer ? connection.state.kind : 'unsupported',
    reason: 'reason' in connection.state ? connection.state.reason : '',
    lobbyId,
    instanceId: session?.welcome.instanceId ?? '',
    clientId: session?.welcome.clientId ?? -1,
    tick: session?.lastTick ?? -1,
    renderTick,
    particles: session?.buffer.newestCount ?? 0,
    worldParticles,
    viewFrames,
    view: subscription.requested ?? null,
    sendRate: connection.rate,
    visible,
    copies: culler.copyCount,
    status: status
      ? {
          phase: status.phase,
          clients: status.clients,
          particles: status.particles,
          maxParticles: status.maxParticles,
        }
      : null,
    seqSent: sender.lastSeq,
    ack: session?.ack ?? -1,
    inputsSent: sender.sent,
    framesReceived,
    framesSkipped,
    sessions: connection.sessions,
    bytesReceived: connection.bytesReceived,
    fps: fps.perSecond(performance.now()),
    rttMs: connection.rttMs,
    experience: {
      reportsSent: reporter.sent,
      last: reporter.last ?? null,
      ageMs: meter.ageMs,
      clockOffsetMs: meter.clockOffsetMs,
    },
    camera: {
      centerX: camera.centerX,
      centerY: camera.centerY,
      zoom: camera.zoom,
      viewWidth: camera.viewWidth,
      viewHeight: camera.viewHeight,
      worldSize: camera.worldSize,
    },
    perf: {
      decode: timingSnapshot(timings.decode),
      interpolate: timingSnapshot(timings.interpolate),
      draw: timingSnapshot(timings.draw),
      renderFrames,
    },
  }));

  if (!renderer) {
    // Without WebGL2 there is nothing to draw on: say so, do not connect.
    hud.showUnsupported(
      'WebGL2 is not available in this browser, so the swarm cannot be drawn. ' +
        'Try a current Chrome, Edge, Firefox or Safari, with hardware acceleration enabled.',
    );
    return;
  }

  new Controls(canvas, camera, {
    force: (mode, x, y) => sender.setForce(mode, x, y),
    burst: (x, y) =>
      sender.burst(x, y, Math.min(BURST_SIZE, session?.welcome.maxSpawn ?? BURST_SIZE)),
  });

  const render = (now: number) => {
    requestAnimationFrame(render);
    if (renderer.resize()) camera.setViewport(renderer.cssWidth, renderer.cssHeight);
    fps.add(1, now);
    renderFrames++;
    const s = session;
    if (!s) return renderer.draw(culler.data, 0, culler.copies, 0, camera);
    const t0 = performance.now();
    subscription.update(camera.viewRect(), camera.worldSize, t0);
    renderTick = s.playout.advance(t0);
    const sample = s.buffer.sample(renderTick);
    const t1 = performance.now();
    visible = culler.cull(sample.data, sample.count, camera.viewRect(), camera.worldSize);
    renderer.draw(culler.data, visible, culler.copies, culler.copyCount, camera);
    meter.drawn(renderTick);
    const t2 = performance.now();
    timings.interpolate.add(t1 - t0);
    timings.draw.add(t2 - t1);
  };
  requestAnimationFrame(render);

  setInterval(() => {
    const now = performance.now();
    hud.showConnection(connection.state, now);
    hud.showNumbers({
      tick: session?.lastTick ?? -1,
      fps: fps.perSecond(now),
      rttMs: connection.rttMs,
      ageMs: meter.ageMs,
      downKBps: download.perSecond(now) / 1000,
      skipped: framesSkipped,
      seqSent: sender.lastSeq,
      ack: session?.ack ?? -1,
    });
  }, HUD_INTERVAL_MS);

  const followVisibility = () =>
    connection.setRate(document.hidden ? HIDDEN_TAB_RATE : SEND_RATES[0]);
  document.addEventListener('visibilitychange', followVisibility);
  followVisibility();
  connection.start();
}

main();
