// AudioWorklet processor "pcm16-capture": microphone audio in, 100 ms
// frames of 16 kHz mono little-endian PCM16 out (posted to the main thread
// with their RMS level). It runs at whatever rate the AudioContext has
// (Chromium's fake microphone is 44.1 kHz; a context created at 16 kHz
// needs no resampling at all), downmixes to mono and resamples with a
// stateful low-pass + fractional interpolator, so frame boundaries never
// click or drift. Messages in: "flush" posts the partly filled frame.

// The AudioWorkletGlobalScope is not in TypeScript's DOM lib.
declare const sampleRate: number;
declare function registerProcessor(name: string, ctor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}

const OUT_RATE = 16000;
const FRAME_SAMPLES = OUT_RATE / 10; // 100 ms

// Windowed-sinc (Blackman) low-pass at 7.2 kHz for the input rate: keeps
// everything a recogniser uses and removes what would alias below 8 kHz.
function lowPass(inRate: number): Float32Array {
  if (inRate <= OUT_RATE) return Float32Array.of(1);
  const fc = 7200 / inRate; // cycles per input sample
  const n = Math.ceil((inRate / OUT_RATE) * 16) | 1; // odd, so the delay is whole
  const m = (n - 1) / 2;
  const taps = new Float32Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const x = k - m;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * k) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * k) / (n - 1));
    taps[k] = sinc * w;
    sum += taps[k];
  }
  for (let k = 0; k < n; k++) taps[k] /= sum;
  return taps;
}

class Pcm16Capture extends AudioWorkletProcessor {
  private readonly ratio = sampleRate / OUT_RATE; // input samples per output sample
  private readonly taps = lowPass(sampleRate);
  // History of input samples, stored twice so a window is always contiguous.
  private readonly hist = new Float32Array(this.taps.length * 2);
  private histPos = 0;
  private prevY = 0;
  private nextPos = 0; // next output position, in input samples relative to the current one
  private frame = new Int16Array(FRAME_SAMPLES);
  private filled = 0;
  private sumSquares = 0;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent) => {
      if (e.data === 'flush') this.post();
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const len = channels[0].length;
    const nch = channels.length;
    for (let i = 0; i < len; i++) {
      let x = 0;
      for (let c = 0; c < nch; c++) x += channels[c][i];
      this.push(x / nch);
    }
    return true;
  }

  private push(x: number): void {
    const n = this.taps.length;
    this.hist[this.histPos] = x;
    this.hist[this.histPos + n] = x;
    this.histPos = (this.histPos + 1) % n;
    // hist[histPos .. histPos+n) is the window, oldest first.
    let y = 0;
    for (let k = 0; k < n; k++) y += this.taps[k] * this.hist[this.histPos + k];
    // Emit every output sample whose position lies in (previous, current].
    while (this.nextPos <= 0) {
      const frac = this.nextPos + 1;
      this.emit(this.prevY + (y - this.prevY) * frac);
      this.nextPos += this.ratio;
    }
    this.prevY = y;
    this.nextPos -= 1;
  }

  private emit(v: number): void {
    const s = Math.max(-1, Math.min(1, v));
    this.sumSquares += s * s;
    this.frame[this.filled++] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
    if (this.filled === FRAME_SAMPLES) this.post();
  }

  private post(): void {
    if (this.filled === 0) return;
    const pcm = this.frame.slice(0, this.filled);
    const rms = Math.sqrt(this.sumSquares / this.filled);
    this.port.postMessage({ pcm: pcm.buffer, rms }, [pcm.buffer]);
    this.filled = 0;
    this.sumSquares = 0;
  }
}

registerProcessor('pcm16-capture', Pcm16Capture);
