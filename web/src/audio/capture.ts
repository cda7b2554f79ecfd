// MicCapture: the microphone as a stream of 100 ms PCM16 frames at 16 kHz
// mono, via the "pcm16-capture" AudioWorklet. The browser's own echo
// cancellation, noise suppression and gain control are switched off: they
// distort speech enough to cause misrecognitions. start() fails with a
// CaptureError whose `kind` the page turns into a clear message.
import workletUrl from './capture.worklet.ts?worker&url';

export type CaptureErrorKind = 'denied' | 'no-device' | 'insecure' | 'failed';

export class CaptureError extends Error {
  constructor(
    readonly kind: CaptureErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface Frame {
  pcm: ArrayBuffer; // little-endian PCM16, 16 kHz mono
  rms: number; // 0..1
}

export class MicCapture {
  private constructor(
    private readonly stream: MediaStream,
    private readonly ctx: AudioContext,
    private readonly node: AudioWorkletNode,
  ) {}

  get inputRate(): number {
    return this.ctx.sampleRate;
  }

  // `nativeRate` runs the context at the device's rate, so the worklet's
  // own resampler does the work (the page's ?capture=native, for testing it).
  static async start(onFrame: (frame: Frame) => void, nativeRate = false): Promise<MicCapture> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new CaptureError(
        'insecure',
        'This browser gives no microphone here: open the page over https or on localhost.',
      );
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
      });
    } catch (err) {
      const name = err instanceof DOMException ? err.name : '';
      if (name === 'NotAllowedError' || name === 'SecurityError') {
        throw new CaptureError(
          'denied',
          'Microphone access was denied. Allow the microphone for this site (the icon in the address bar), then press Start.',
        );
      }
      if (name === 'NotFoundError' || name === 'OverconstrainedError') {
        throw new CaptureError('no-device', 'No microphone was found. Connect one, then press Start.');
      }
      throw new CaptureError('failed', `The microphone could not be opened: ${String(err)}`);
    }
    try {
      const { ctx, source } = openContext(stream, nativeRate);
      await ctx.audioWorklet.addModule(workletUrl);
      const node = new AudioWorkletNode(ctx, 'pcm16-capture', { numberOfInputs: 1, numberOfOutputs: 1 });
      node.port.onmessage = (e: MessageEvent<Frame>) => onFrame(e.data);
      // A silent sink keeps the graph pulled in every browser.
      const mute = ctx.createGain();
      mute.gain.value = 0;
      source.connect(node).connect(mute).connect(ctx.destination);
      await ctx.resume();
      return new MicCapture(stream, ctx, node);
    } catch (err) {
      for (const track of stream.getTracks()) track.stop();
      throw new CaptureError('failed', `Audio capture could not start: ${String(err)}`);
    }
  }

  // Posts the partly filled last frame, then releases the microphone.
  async stop(): Promise<void> {
    this.node.port.postMessage('flush');
    // The flush is answered on the audio thread; give it one render quantum or so.
    await new Promise((r) => setTimeout(r, 30));
    for (const track of this.stream.getTracks()) track.stop();
    this.node.port.onmessage = null;
    this.node.disconnect();
    await this.ctx.close();
  }
}

// A 16 kHz context lets the browser resample with its own high-quality
// resampler; browsers that refuse to connect a stream at another rate
// (Firefox) get a context at the device rate and the worklet resamples.
function openContext(
  stream: MediaStream,
  nativeRate: boolean,
): { ctx: AudioContext; source: MediaStreamAudioSourceNode } {
  if (!nativeRate) {
    try {
      const ctx = new AudioContext({ sampleRate: 16000 });
      try {
        return { ctx, source: ctx.createMediaStreamSource(stream) };
      } catch {
        void ctx.close();
      }
    } catch {
      // sampleRate option unsupported: fall through.
    }
  }
  const ctx = new AudioContext();
  return { ctx, source: ctx.createMediaStreamSource(stream) };
}
