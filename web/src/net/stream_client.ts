// StreamClient: one live session over GET /v1/stream that survives dropped
// connections. It sends `start` (with session_id, resume_token, last_final
// and last_thoughts when resuming), audio frames and control messages,
// hands every server event to the page, and reconnects with backoff after
// a drop. Because it tells the server the last final and thoughts it holds,
// the replay after a resume carries only what it missed; it also drops any
// final or thoughts it already has, so nothing is ever shown twice.
//
// A browser cannot read the HTTP status of a refused WebSocket upgrade, so
// when a connection fails before opening, the client asks the server once
// with fetch() to tell a bad API key (401), a full server (503) and a
// forbidden origin (403) from a server that is simply down.
import { Backoff } from './backoff';
import { parseEvent, type ServerEvent, type StartMessage } from '../protocol';

export type ConnectionState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'stopping' | 'failed';

export type Problem =
  | { kind: 'auth'; message: string }
  | { kind: 'busy'; message: string; retryInMs: number }
  | { kind: 'disconnected'; message: string; retryInMs: number }
  | { kind: 'fatal'; message: string };

export interface StreamClientHooks {
  onState(state: ConnectionState): void;
  onEvent(event: ServerEvent, sessionId: string): void;
  onProblem(problem: Problem | null): void;
}

export interface StreamClientOptions {
  baseUrl: string; // http(s)://host[:port] of the server
  apiKey: () => string | null;
  hooks: StreamClientHooks;
  maxBufferedBytes?: number; // audio is dropped while the socket is this far behind
}

// Close codes after which reconnecting cannot help (docs/streaming.md).
const FATAL_CLOSES = new Set([1003, 1007, 1009]);

export class StreamClient {
  private ws: WebSocket | null = null;
  private state: ConnectionState = 'idle';
  private wanted = false; // the user pressed Start and not Stop
  private opened = false; // the current socket reached `open`
  private lastError: { code: string; message: string } | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly backoff = new Backoff();
  private sessionId = '';
  private resumeToken = '';
  private lastFinal = 0;
  private lastThoughts = 0;
  private resuming = false;

  constructor(private readonly opts: StreamClientOptions) {
    window.addEventListener('online', () => {
      if (this.state === 'reconnecting') this.retryNow();
    });
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  // Opens a new session (forgetting any previous one).
  start(): void {
    this.wanted = true;
    this.sessionId = '';
    this.resumeToken = '';
    this.lastFinal = 0;
    this.lastThoughts = 0;
    this.backoff.reset();
    this.connect();
  }

  // Asks the server to finalise what it heard and close; events still arrive until it does.
  stop(): void {
    this.wanted = false;
    this.clearRetry();
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.send({ type: 'stop' });
      this.setState('stopping');
    } else {
      this.ws?.close(1000);
      this.ws = null;
      this.setState('idle');
    }
    this.opts.hooks.onProblem(null);
  }

  // After the user gives a new API key.
  retryNow(): void {
    if (!this.wanted) return;
    this.clearRetry();
    this.connect();
  }

  endOfTurn(): boolean {
    return this.send({ type: 'end_of_turn' });
  }

  sendAudio(pcm: ArrayBuffer): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.state === 'stopping') return false;
    if (ws.bufferedAmount > (this.opts.maxBufferedBytes ?? 1 << 20)) return false;
    ws.send(pcm);
    return true;
  }

  private send(msg: object): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  private url(): string {
    const u = new URL('/v1/stream', this.opts.baseUrl);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    const key = this.opts.apiKey();
    if (key) u.searchParams.set('api_key', key);
    return u.toString();
  }

  private connect(): void {
    this.ws?.close();
    this.opened = false;
    this.lastError = null;
    this.resuming = this.sessionId !== '' && this.resumeToken !== '';
    this.setState(this.resuming ? 'reconnecting' : 'connecting');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
      const start: StartMessage = { type: 'start', sample_rate: 16000, encoding: 'pcm16' };
      if (this.resuming) {
        start.session_id = this.sessionId;
        start.resume_token = this.resumeToken;
        start.last_final = this.lastFinal;
        start.last_thoughts = this.lastThoughts;
      }
      ws.send(JSON.stringify(start));
    };
    ws.onmessage = (e: MessageEvent) => {
      if (ws !== this.ws || typeof e.data !== 'string') return;
      const event = parseEvent(e.data);
      if (!event) {
        console.warn('scribepod: ignored a malformed event', e.data);
        return;
      }
      this.handle(event);
    };
    ws.onclose = (e: CloseEvent) => {
      if (ws !== this.ws) return;
      this.ws = null;
      void this.closed(e.code, e.reason);
    };
  }

  private handle(event: ServerEvent): void {
    switch (event.type) {
      case 'session':
        this.sessionId = event.session_id;
        this.resumeToken = event.resume_token;
        this.backoff.reset();
        this.setState(this.state === 'stopping' ? 'stopping' : 'live');
        this.opts.hooks.onProblem(null);
        break;
      case 'final':
        if (event.utterance_id <= this.lastFinal) return; // already shown
        this.lastFinal = event.utterance_id;
        break;
      case 'thoughts':
        if (event.utterance_id <= this.lastThoughts) return;
        this.lastThoughts = event.utterance_id;
        break;
      case 'partial':
        if (event.utterance_id <= this.lastFinal) return; // a late partial of a finished utterance
        break;
      case 'error':
        this.lastError = { code: event.code, message: event.message };
        break;
      default:
        break;
    }
    this.opts.hooks.onEvent(event, this.sessionId);
  }

  private async closed(code: number, reason: string): Promise<void> {
    const err = this.lastError;
    if (!this.wanted) {
      this.setState('idle');
      return;
    }
    if (!this.opened) {
      // The upgrade was refused or the server is unreachable: find out which.
      const status = await this.probe();
      if (!this.wanted || this.ws) return; // the user acted meanwhile
      if (status.code === 401) return this.fail({ kind: 'auth', message: 'The server needs an API key.' });
      if (status.code === 403) {
        return this.fail({ kind: 'fatal', message: 'The server refused this page’s origin (403). Ask its operator to allow it.' });
      }
      if (status.code === 404) {
        return this.fail({ kind: 'fatal', message: 'This server has no live stream endpoint (/v1/stream answered 404).' });
      }
      if (status.code === 503) return this.retry('busy', 'The server is full right now.', status.retryAfterMs);
      if (status.code === 0) return this.retry('disconnected', 'Cannot reach the server.');
      return this.retry('disconnected', `The server refused the stream (HTTP ${status.code}).`);
    }
    if (err?.code === 'unauthorized') return this.fail({ kind: 'auth', message: err.message });
    if (err?.code === 'bad_request' && this.resuming && code === 1008) {
      // The resume token expired (or the server restarted): start afresh.
      this.sessionId = '';
      this.resumeToken = '';
      this.lastFinal = 0;
      this.lastThoughts = 0;
      return this.retry('disconnected', 'The previous session could not be resumed; starting a new one.', 0);
    }
    if (FATAL_CLOSES.has(code)) {
      return this.fail({ kind: 'fatal', message: `The server closed the stream: ${err?.message ?? reason ?? code}` });
    }
    if (code === 1013) return this.retry('busy', 'The server could not keep up with this stream.');
    if (code === 1001) return this.retry('disconnected', 'The server is restarting.');
    return this.retry('disconnected', 'The connection dropped.');
  }

  private retry(kind: 'busy' | 'disconnected', message: string, atLeastMs = -1): void {
    let delay = this.backoff.next();
    if (atLeastMs >= 0) delay = kind === 'busy' ? Math.max(delay, atLeastMs) : atLeastMs;
    this.setState('reconnecting');
    this.opts.hooks.onProblem({ kind, message, retryInMs: delay });
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.wanted) this.connect();
    }, delay);
  }

  private fail(problem: Problem): void {
    this.setState('failed');
    this.opts.hooks.onProblem(problem);
  }

  private async probe(): Promise<{ code: number; retryAfterMs: number }> {
    const key = this.opts.apiKey();
    try {
      const res = await fetch(new URL('/v1/stream', this.opts.baseUrl), {
        headers: key ? { 'X-API-Key': key } : {},
        cache: 'no-store',
      });
      const after = Number(res.headers.get('Retry-After'));
      return { code: res.status, retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : -1 };
    } catch {
      return { code: 0, retryAfterMs: -1 };
    }
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.opts.hooks.onState(state);
  }
}
