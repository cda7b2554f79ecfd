// The live page: wires the microphone (MicCapture), the stream
// (StreamClient) and the views together, and owns the controls:
// Start/Stop, End turn (also the space bar) and the API key form.
import './styles.css';
import { CaptureError, MicCapture, type Frame } from './audio/capture';
import { loadApiKey, saveApiKey } from './net/api_key';
import { StreamClient, type ConnectionState, type Problem } from './net/stream_client';
import type { ServerEvent } from './protocol';
import { ThoughtsView } from './ui/thoughts_view';
import { TranscriptView } from './ui/transcript_view';

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

const toggle = $<HTMLButtonElement>('toggle');
const endTurnButton = $<HTMLButtonElement>('end-turn');
const level = $<HTMLMeterElement>('level');
const notice = $<HTMLSpanElement>('notice');
const alertBox = $<HTMLDivElement>('alert');
const connection = $<HTMLSpanElement>('connection');
const engines = $<HTMLSpanElement>('engines');
const keyForm = $<HTMLFormElement>('key-form');
const keyInput = $<HTMLInputElement>('api-key');

const transcript = new TranscriptView($<HTMLOListElement>('transcript'), $('transcript-empty'));
const thoughts = new ThoughtsView($('cards'), $('thoughts-empty'), $('mind'));
const heard = new Map<string, string>(); // final text per session:utterance, for card titles

// Test and debugging hooks: how much audio left the page, and how loud it was.
const debug = { framesSent: 0, framesDropped: 0, peakRms: 0, inputRate: 0 };
(window as unknown as { scribepod: typeof debug }).scribepod = debug;

const nativeRate = new URLSearchParams(location.search).get('capture') === 'native';
let capture: MicCapture | null = null;
let starting = false;
let sessions = 0;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

const client = new StreamClient({
  baseUrl: location.origin,
  apiKey: loadApiKey,
  hooks: { onState: showState, onEvent, onProblem: showProblem },
});

const STATE_TEXT: Record<ConnectionState, string> = {
  idle: 'Stopped',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  stopping: 'Finishing…',
  failed: 'Not connected',
};

function showState(state: ConnectionState): void {
  connection.dataset.state = state;
  connection.textContent = STATE_TEXT[state];
  endTurnButton.disabled = state !== 'live';
}

function showNotice(text: string, ms = 2500): void {
  notice.textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.textContent = ''), ms);
}

function showAlert(kind: string, text: string): void {
  alertBox.dataset.kind = kind;
  alertBox.textContent = text;
  alertBox.hidden = false;
}

function clearAlert(): void {
  alertBox.hidden = true;
  alertBox.textContent = '';
}

function showProblem(problem: Problem | null): void {
  if (!problem) {
    clearAlert();
    keyForm.hidden = true;
    return;
  }
  switch (problem.kind) {
    case 'auth': {
      const had = loadApiKey();
      showAlert('auth', had ? 'The server refused the saved API key. Enter the right one.' : 'This server needs an API key. Enter it below.');
      keyForm.hidden = false;
      keyInput.value = '';
      keyInput.focus();
      break;
    }
    case 'busy':
      showAlert('busy', `Server busy: ${problem.message} Trying again in ${seconds(problem.retryInMs)}…`);
      break;
    case 'disconnected':
      showAlert('disconnected', `Disconnected: ${problem.message} Reconnecting in ${seconds(problem.retryInMs)}…`);
      break;
    case 'fatal':
      showAlert('fatal', problem.message);
      void stopCapture();
      break;
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? 'a moment' : `${Math.round(ms / 100) / 10} s`;
}

function onEvent(ev: ServerEvent, sessionId: string): void {
  switch (ev.type) {
    case 'session':
      engines.textContent = `Recogniser ${ev.asr_engine ?? '—'} · Mind ${ev.mind_engine ?? '—'}`;
      if (ev.resumed) showNotice(`Resumed the session${ev.replayed ? `; ${ev.replayed} missed events replayed` : ''}.`);
      break;
    case 'partial':
      transcript.partial(sessionId, ev);
      break;
    case 'final':
      heard.set(`${sessionId}:${ev.utterance_id}`, ev.text);
      transcript.final(sessionId, ev);
      break;
    case 'thoughts':
      thoughts.thoughts(sessionId, ev, heard.get(`${sessionId}:${ev.utterance_id}`) ?? '');
      break;
    case 'stats':
      thoughts.stats(sessionId, ev);
      break;
    case 'busy':
      showNotice('The server is busy: live captions are being skipped; final text will still arrive.', Math.max(3000, ev.retry_after_ms ?? 0));
      break;
    case 'error':
      if (ev.code !== 'shutting_down') showAlert('fatal', `Server error (${ev.code}): ${ev.message}`);
      break;
  }
}

function onFrame(frame: Frame): void {
  debug.peakRms = Math.max(debug.peakRms, frame.rms);
  // dBFS from -60 to 0 onto the meter's 0..1.
  const db = 20 * Math.log10(Math.max(frame.rms, 1e-6));
  level.value = Math.min(1, Math.max(0, (db + 60) / 60));
  if (client.sendAudio(frame.pcm)) debug.framesSent++;
  else debug.framesDropped++;
}

async function start(): Promise<void> {
  if (capture || starting) return;
  starting = true;
  toggle.disabled = true;
  clearAlert();
  try {
    capture = await MicCapture.start(onFrame, nativeRate);
    debug.inputRate = capture.inputRate;
  } catch (err) {
    const message = err instanceof CaptureError ? err.message : String(err);
    showAlert(err instanceof CaptureError && err.kind === 'denied' ? 'denied' : 'fatal', message);
    return;
  } finally {
    starting = false;
    toggle.disabled = false;
  }
  if (sessions++ > 0) transcript.divider('New session');
  setRunning(true);
  client.start();
}

async function stopCapture(): Promise<void> {
  const c = capture;
  capture = null;
  setRunning(false);
  level.value = 0;
  if (c) await c.stop(); // flushes the last partial frame first
}

async function stop(): Promise<void> {
  await stopCapture();
  client.stop();
}

function setRunning(running: boolean): void {
  toggle.textContent = running ? 'Stop' : 'Start';
  toggle.setAttribute('aria-pressed', String(running));
}

function endTurn(): void {
  if (client.endOfTurn()) showNotice('Turn ended.');
}

toggle.addEventListener('click', () => void (capture ? stop() : start()));
endTurnButton.addEventListener('click', endTurn);

keyForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const key = keyInput.value.trim();
  if (!key) return;
  saveApiKey(key);
  keyForm.hidden = true;
  clearAlert();
  if (capture) client.retryNow();
  else void start();
});

// The space bar ends the turn anywhere except in a text field. It is
// swallowed on buttons too, so a focused Stop button is not pressed by it.
function isTextField(t: EventTarget | null): boolean {
  return t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || (t instanceof HTMLElement && t.isContentEditable);
}
document.addEventListener('keydown', (e) => {
  if (e.code !== 'Space' || isTextField(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
  e.preventDefault();
  if (!e.repeat) endTurn();
});
document.addEventListener('keyup', (e) => {
  if (e.code === 'Space' && !isTextField(e.target)) e.preventDefault();
});

showState('idle');
