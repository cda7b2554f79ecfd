// ThoughtsView: one card per utterance with the agent's thoughts about it
// (the five fields, the engine that made them and how long it took), newest
// first, and the rolling mind state: the last five distinct values of each
// field, most recent first.
import { thoughtFields, type StatsEvent, type ThoughtField, type ThoughtsEvent } from '../protocol';

const LABELS: Record<ThoughtField, string> = {
  intent: 'Intent',
  person_is: 'Person is',
  extra_state: 'Extra state',
  thoughts: 'Thoughts',
  response: 'Response',
};

const KEEP = 5;

export class ThoughtsView {
  private readonly cards = new Map<string, HTMLElement>();
  private readonly recent = new Map<ThoughtField, string[]>(thoughtFields.map((f) => [f, []]));

  constructor(
    private readonly cardList: HTMLElement,
    private readonly empty: HTMLElement,
    private readonly mindState: HTMLElement,
  ) {
    this.renderMindState();
  }

  thoughts(sessionId: string, ev: ThoughtsEvent, heard: string): void {
    const key = `${sessionId}:${ev.utterance_id}`;
    if (this.cards.has(key)) return;
    const card = document.createElement('article');
    card.className = 'card';
    card.dataset.utterance = String(ev.utterance_id);
    const h = document.createElement('h3');
    h.textContent = heard ? `“${heard}”` : `Utterance ${ev.utterance_id}`;
    const dl = document.createElement('dl');
    for (const f of thoughtFields) addPair(dl, LABELS[f], ev[f] || '—');
    const meta = document.createElement('p');
    meta.className = 'meta';
    meta.textContent = `${ev.engine} · ${formatLatency(ev.latency_ms)}`;
    card.append(h, dl, meta);
    this.cardList.prepend(card);
    this.cards.set(key, card);
    this.empty.hidden = true;
    for (const f of thoughtFields) remember(this.recent.get(f)!, ev[f]);
    this.renderMindState();
  }

  // End-of-speech → final and final → thoughts, added to the card's footer.
  stats(sessionId: string, ev: StatsEvent): void {
    const card = this.cards.get(`${sessionId}:${ev.utterance_id}`);
    const meta = card?.querySelector('.meta');
    if (!meta || typeof ev.speech_end_to_final_ms !== 'number') return;
    meta.textContent += ` · final ${Math.round(ev.speech_end_to_final_ms)} ms after speech`;
  }

  private renderMindState(): void {
    const dl = document.createElement('dl');
    for (const f of thoughtFields) {
      const dt = document.createElement('dt');
      dt.textContent = LABELS[f];
      const dd = document.createElement('dd');
      const values = this.recent.get(f)!;
      if (values.length === 0) {
        dd.textContent = '—';
      } else {
        const ul = document.createElement('ul');
        for (const v of values) {
          const li = document.createElement('li');
          li.textContent = v;
          ul.append(li);
        }
        dd.append(ul);
      }
      dl.append(dt, dd);
    }
    this.mindState.replaceChildren(dl);
  }
}

function remember(list: string[], value: string): void {
  const v = value.trim();
  if (!v) return;
  const at = list.indexOf(v);
  if (at >= 0) list.splice(at, 1);
  list.unshift(v);
  if (list.length > KEEP) list.length = KEEP;
}

function addPair(dl: HTMLElement, label: string, value: string): void {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  dl.append(dt, dd);
}

function formatLatency(ms: number): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return 'latency unknown';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}
