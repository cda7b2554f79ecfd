// TranscriptView: the live transcript. Each utterance is one list item,
// keyed by session and utterance id, whose text is replaced in place: a
// partial (grey italic, hidden from screen readers so they are not read
// every revision) until its final arrives (plain text, announced once by
// the list's aria-live). A partial never overwrites a final, and an older
// revision never overwrites a newer one.
import type { FinalEvent, PartialEvent } from '../protocol';

interface Entry {
  item: HTMLLIElement;
  revision: number;
  final: boolean;
}

export class TranscriptView {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly list: HTMLOListElement,
    private readonly empty: HTMLElement,
  ) {}

  partial(sessionId: string, ev: PartialEvent): void {
    const entry = this.entry(sessionId, ev.utterance_id);
    if (entry.final || ev.revision <= entry.revision) return;
    entry.revision = ev.revision;
    this.setText(entry, ev.text, 'partial');
  }

  final(sessionId: string, ev: FinalEvent): void {
    const entry = this.entry(sessionId, ev.utterance_id);
    if (entry.final) return;
    entry.final = true;
    if (ev.text.trim() === '') {
      // An utterance with no words (a cough): nothing to keep.
      entry.item.remove();
      return;
    }
    this.setText(entry, ev.text, 'final');
    entry.item.title = `${formatMs(ev.start_ms)}–${formatMs(ev.end_ms)}`;
  }

  // A visible marker between sessions (after Stop/Start or an expired resume).
  divider(label: string): void {
    if (this.list.children.length === 0) return;
    const li = document.createElement('li');
    li.className = 'divider';
    li.textContent = label;
    this.list.append(li);
  }

  private entry(sessionId: string, id: number): Entry {
    const key = `${sessionId}:${id}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const item = document.createElement('li');
      item.className = 'utterance';
      item.dataset.utterance = String(id);
      entry = { item, revision: 0, final: false };
      this.entries.set(key, entry);
      this.list.append(item);
      this.empty.hidden = true;
    }
    return entry;
  }

  private setText(entry: Entry, text: string, kind: 'partial' | 'final'): void {
    const span = document.createElement('span');
    span.className = kind;
    span.textContent = text;
    if (kind === 'partial') span.setAttribute('aria-hidden', 'true');
    entry.item.replaceChildren(span);
    entry.item.dataset.state = kind;
    entry.item.scrollIntoView?.({ block: 'nearest' });
  }
}

function formatMs(ms: number | undefined): string {
  if (typeof ms !== 'number') return '?';
  const s = ms / 1000;
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}`;
}
