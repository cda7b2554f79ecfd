// The wire format of GET /v1/stream (docs/streaming.md), as types, plus a
// parser that turns a text frame into a typed event or null. The page never
// trusts a frame's shape: anything malformed is dropped and logged, so one
// bad event cannot break the transcript.

export interface StartMessage {
  type: 'start';
  sample_rate: number;
  encoding: 'pcm16';
  session_id?: string;
  resume_token?: string;
  last_final?: number;
  last_thoughts?: number;
  language?: string;
}

export interface SessionEvent {
  type: 'session';
  seq: number;
  session_id: string;
  resume_token: string;
  resumed: boolean;
  replayed: number;
  asr_engine: string;
  mind_engine: string;
}

export interface PartialEvent {
  type: 'partial';
  seq: number;
  utterance_id: number;
  revision: number;
  text: string;
  start_ms: number;
  /** Stream time of the end of the audio this partial covers. */
  end_ms: number;
}

export interface FinalEvent {
  type: 'final';
  seq: number;
  utterance_id: number;
  text: string;
  start_ms: number;
  end_ms: number;
  reason: string;
}

export interface ThoughtsEvent {
  type: 'thoughts';
  seq: number;
  utterance_id: number;
  intent: string;
  person_is: string;
  extra_state: string;
  thoughts: string;
  response: string;
  engine: string;
  latency_ms: number;
}

export interface StatsEvent {
  type: 'stats';
  seq: number;
  utterance_id: number;
  endpoint_wait_ms?: number;
  final_decode_ms?: number;
  speech_end_to_final_ms?: number;
  final_to_thoughts_ms?: number;
}

export interface BusyEvent {
  type: 'busy';
  seq: number;
  retry_after_ms: number;
  reason?: string;
}

export interface ErrorEvent {
  type: 'error';
  seq: number;
  code: string;
  message: string;
}

export type ServerEvent =
  | SessionEvent
  | PartialEvent
  | FinalEvent
  | ThoughtsEvent
  | StatsEvent
  | BusyEvent
  | ErrorEvent;

type Shape = Record<string, 'string' | 'number' | 'boolean'>;

// Required fields per event type; optional ones are checked where used.
const shapes: Record<ServerEvent['type'], Shape> = {
  session: { session_id: 'string', resume_token: 'string' },
  partial: { utterance_id: 'number', revision: 'number', text: 'string' },
  final: { utterance_id: 'number', text: 'string' },
  thoughts: {
    utterance_id: 'number',
    intent: 'string',
    person_is: 'string',
    extra_state: 'string',
    thoughts: 'string',
    response: 'string',
    engine: 'string',
  },
  stats: { utterance_id: 'number' },
  busy: {},
  error: { code: 'string', message: 'string' },
};

export function parseEvent(text: string): ServerEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const obj = value as Record<string, unknown>;
  const type = obj.type;
  if (typeof type !== 'string' || !(type in shapes)) return null;
  const shape = shapes[type as ServerEvent['type']];
  for (const [field, kind] of Object.entries(shape)) {
    if (typeof obj[field] !== kind) return null;
  }
  return obj as unknown as ServerEvent;
}

// The five fields of a thought, in the order the page shows them.
export const thoughtFields = ['intent', 'person_is', 'extra_state', 'thoughts', 'response'] as const;
export type ThoughtField = (typeof thoughtFields)[number];
