// End to end in a real browser: Debian's Chromium (headless, driven by
// playwright-core) opens the page that the real scribepod server serves,
// with a fake microphone playing real recorded speech. The audio goes
// through the whole live pipeline (AudioWorklet → PCM16 16 kHz →
// WebSocket /v1/stream → endpointing → PocketSphinx → mind) and the test
// waits for the final "go forward ten meters" and its thoughts card on the
// page, checks that partial text is styled apart from final text, and keeps
// a screenshot in build/artifacts/.
//
//   SCRIBEPOD_BINARY=build/<preset>/src/cli/scribepod node tests/e2e/live.spec.mjs
//
// Needs: web/dist (npm ci && npm run build in web/), chromium, ffmpeg,
// pocketsphinx-testdata. Exit status 0 pass, 1 fail.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, launchChromium, makeSpeechWav, repoRoot, waitFor, webDist } from './harness.mjs';

const binary = path.resolve(repoRoot, process.env.SCRIBEPOD_BINARY ?? 'build/dev/src/cli/scribepod');
const artifacts = path.join(repoRoot, 'build/artifacts');
const TIMEOUT_MS = Number(process.env.SCRIBEPOD_E2E_TIMEOUT_MS ?? 45000);

function log(msg) {
  console.log(`[e2e] ${msg}`);
}

async function startServer(workdir, port) {
  const args = ['serve', '--port', String(port), '--host', '127.0.0.1', '--threads', '2',
    '--set', `server.static_dir=${webDist}`];
  log(`starting ${binary} ${args.join(' ')}`);
  const child = spawn(binary, args, { cwd: workdir, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor('the server to answer /health', async () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      try {
        return (await fetch(`${base}/health`)).ok;
      } catch {
        return false;
      }
    }, 20000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n${output}`);
  }
  return { child, base, exited, output: () => output };
}

// Does the server speak /v1/stream? A WebSocket handshake by hand (Node 20
// has no WebSocket client); answers the HTTP status (101 when it does).
function streamHandshakeStatus(base) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const sock = net.connect(Number(port), hostname, () => {
      sock.write('GET /v1/stream HTTP/1.1\r\nHost: ' + `${hostname}:${port}` + '\r\nConnection: Upgrade\r\n' +
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    });
    let head = '';
    sock.setTimeout(5000, () => { sock.destroy(); resolve(0); });
    sock.on('data', (c) => {
      head += c;
      const m = head.match(/^HTTP\/1\.1 (\d{3})/);
      if (m) { sock.destroy(); resolve(Number(m[1])); }
    });
    sock.on('error', () => resolve(0));
  });
}

async function main() {
  if (!fs.existsSync(binary)) throw new Error(`no scribepod binary at ${binary} (set SCRIBEPOD_BINARY)`);
  if (!fs.existsSync(path.join(webDist, 'index.html'))) {
    throw new Error('web/dist/index.html is missing: run `npm ci && npm run build` in web/');
  }
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'scribepod-e2e-'));
  let server;
  let browser;
  try {
    const wav = makeSpeechWav(workdir);
    server = await startServer(workdir, await freePort());
    const handshake = await streamHandshakeStatus(server.base);
    if (handshake !== 101) throw new Error(`this server does not speak GET /v1/stream (handshake answered ${handshake})`);

    browser = await launchChromium(wav);
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log(`page ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    await page.goto(`${server.base}/`);
    await page.getByRole('button', { name: 'Start' }).click();
    const started = Date.now();

    // A partial shows while the person speaks; keep its style to compare with the final's.
    // Read it in the same tick that finds it: the next revision replaces the element.
    const partialStyle = await page.waitForFunction(() => {
      const e = document.querySelector('#transcript .partial');
      if (!e) return null;
      const s = getComputedStyle(e);
      return { color: s.color, fontStyle: s.fontStyle, text: e.textContent };
    }, null, { timeout: TIMEOUT_MS }).then((h) => h.jsonValue());
    log(`first partial after ${Date.now() - started} ms: "${partialStyle.text}" (${partialStyle.fontStyle}, ${partialStyle.color})`);

    const final = await page.waitForFunction(() => {
      const el = [...document.querySelectorAll('#transcript .final')].find((e) => /go forward/i.test(e.textContent));
      return el ? { text: el.textContent, color: getComputedStyle(el).color, fontStyle: getComputedStyle(el).fontStyle } : null;
    }, null, { timeout: TIMEOUT_MS }).then((h) => h.jsonValue());
    log(`final after ${Date.now() - started} ms: "${final.text}" (${final.fontStyle}, ${final.color})`);

    const card = await page.waitForFunction(() => {
      const c = document.querySelector('#cards .card');
      return c ? c.innerText : null;
    }, null, { timeout: TIMEOUT_MS }).then((h) => h.jsonValue());
    log(`thoughts card after ${Date.now() - started} ms:\n${card.replace(/^/gm, '    ')}`);

    const state = await page.evaluate(() => ({
      debug: window.scribepod,
      connection: document.getElementById('connection').textContent,
      engines: document.getElementById('engines').textContent,
      alert: document.getElementById('alert').hidden ? '' : document.getElementById('alert').textContent,
    }));
    log(`page: ${JSON.stringify(state)}`);

    const failures = [];
    if (partialStyle.fontStyle === final.fontStyle && partialStyle.color === final.color) {
      failures.push('partial and final text look the same');
    }
    if (!(state.debug.peakRms > 0.01)) failures.push(`the microphone was silent (peak RMS ${state.debug.peakRms})`);
    if (!(state.debug.framesSent > 0)) failures.push('no audio frames were sent');
    if (state.connection !== 'Live') failures.push(`connection shows "${state.connection}"`);
    if (!/Recogniser \S+/.test(state.engines) || /Recogniser —/.test(state.engines)) failures.push(`engines not shown: "${state.engines}"`);
    for (const field of ['Intent', 'Person is', 'Response']) if (!card.includes(field)) failures.push(`card lacks ${field}`);

    fs.mkdirSync(artifacts, { recursive: true });
    const shot = path.join(artifacts, 'e2e-live.png');
    await page.screenshot({ path: shot, fullPage: true });
    await page.setViewportSize({ width: 360, height: 800 });
    const phone = path.join(artifacts, 'e2e-live-360.png');
    await page.screenshot({ path: phone, fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) failures.push(`at 360 px the page scrolls sideways by ${overflow} px`);
    log(`screenshot: ${shot}`);
    log(`screenshot at 360 px: ${phone}`);

    // Stop: the server finalises and closes normally.
    await page.getByRole('button', { name: 'Stop' }).click();
    await waitFor('the page to show Stopped', () => page.evaluate(() => document.getElementById('connection').textContent === 'Stopped'), 10000);

    if (failures.length) throw new Error(failures.join('; '));
    log('PASS');
  } finally {
    await browser?.close().catch(() => {});
    if (server) {
      server.child.kill('SIGTERM');
      const code = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
      if (code === 'timeout') server.child.kill('SIGKILL');
      if (process.env.SCRIBEPOD_E2E_SERVER_LOG) fs.writeFileSync(process.env.SCRIBEPOD_E2E_SERVER_LOG, server.output());
    }
    fs.rmSync(workdir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[e2e] FAIL: ${err.stack ?? err}`);
    process.exit(1);
  },
);
