// Shared pieces of the end-to-end tests: the speech WAV the fake microphone
// plays, a free port, headless Chromium with a fake microphone, and
// playwright-core (installed by web/'s npm ci, so it is resolved from there).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const webDist = path.join(repoRoot, 'web/dist');
const testData = '/usr/share/pocketsphinx/test/data';
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function loadPlaywright() {
  const require = createRequire(path.join(repoRoot, 'web/package.json'));
  try {
    return require('playwright-core');
  } catch {
    throw new Error('playwright-core is missing: run `npm ci` in web/');
  }
}

// Real recorded speech at 16 kHz mono s16: 0.5 s of silence, "go forward ten
// meters", 1.5 s of silence, "two nine three four zero", 1.5 s of silence.
// Chromium loops the file, so the trailing silence also separates the loops.
export function makeSpeechWav(dir) {
  const out = path.join(dir, 'speech.wav');
  const raw = ['-f', 's16le', '-ar', '16000', '-ac', '1', '-i'];
  const fmt = 'aformat=sample_fmts=s16:sample_rates=16000:channel_layouts=mono';
  execFileSync('ffmpeg', [
    '-loglevel', 'error', '-y',
    ...raw, path.join(testData, 'goforward.raw'),
    ...raw, path.join(testData, 'tidigits/dhd.2934z.raw'),
    '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono',
    '-filter_complex',
    `[2]${fmt},asplit=3[a][b][c];[a]atrim=duration=0.5[s0];[b]atrim=duration=1.5[s1];[c]atrim=duration=1.5[s2];` +
      `[0]${fmt}[g];[1]${fmt}[d];[s0][g][s1][d][s2]concat=n=5:v=0:a=1`,
    '-c:a', 'pcm_s16le', out,
  ]);
  const bytes = fs.statSync(out).size;
  if (bytes < 16000 * 2 * 5) throw new Error(`speech WAV too short (${bytes} bytes)`);
  return out;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function launchChromium(wav) {
  const { chromium } = loadPlaywright();
  if (!fs.existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath} (apt-get install chromium)`);
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
    ],
  });
}

export async function waitFor(what, fn, timeoutMs, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
