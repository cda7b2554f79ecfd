// A scripted stand-in for scribepod's GET /v1/stream, for testing the PAGE
// alone (page.spec.mjs) and for working on it without a C++ build:
//   node tests/e2e/fake_stream_server.mjs [--port 4300] [--api-key KEY]
// It serves web/dist, speaks the protocol of docs/streaming.md over a
// minimal RFC 6455 server (no dependencies), and records what the page
// sends. It does NOT recognise speech: an energy endpointer finds the
// utterances in the audio, and their text comes from a fixed script. The
// real pipeline is tested by live.spec.mjs against the real server.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { webDist } from './harness.mjs';

const SCRIPT = ['go forward ten meters', 'two nine three four zero'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

export function startFakeServer({ port = 0, apiKey = null } = {}) {
  const record = { starts: [], frameBytes: [], controls: [], utterances: [], peakRms: 0, connections: 0 };
  const sessions = new Map(); // id -> { token, finals: [], thoughts: [], next }
  const sockets = new Set();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/v1/stream') {
      // The page's probe after a refused upgrade.
      const ok = !apiKey || req.headers['x-api-key'] === apiKey;
      res.writeHead(ok ? 426 : 401).end();
      return;
    }
    const rel = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    const file = path.join(webDist, path.normalize(rel));
    if (!file.startsWith(webDist) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });

  server.on('upgrade', (req, socket) => {
    const url = new URL(req.url, 'http://x');
    const refuse = (status) => socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\n\r\n`);
    if (url.pathname !== '/v1/stream') return refuse(404);
    if (apiKey && url.searchParams.get('api_key') !== apiKey) return refuse(401);
    const accept = crypto.createHash('sha1')
      .update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    record.connections++;
    serve(socket);
  });

  function serve(socket) {
    let buf = Buffer.alloc(0);
    let seq = 0;
    let session = null;
    let clock = 0; // ms of audio
    let utt = null; // { id, start, silentMs, lastPartial, words }
    const send = (obj) => socket.writable && socket.write(frame(1, Buffer.from(JSON.stringify({ ...obj, seq: ++seq }))));
    const close = (code) => { socket.write(frame(8, Buffer.from([code >> 8, code & 255]))); socket.end(); };

    const finish = (reason) => {
      const text = SCRIPT[(utt.id - 1) % SCRIPT.length];
      const final = { type: 'final', utterance_id: utt.id, text, start_ms: utt.start, end_ms: clock, reason };
      const thoughts = { type: 'thoughts', utterance_id: utt.id, intent: `to say "${text}"`, person_is: 'giving directions',
        extra_state: 'calm', thoughts: `they said ${text}`, response: 'okay', engine: 'scripted', latency_ms: 0.5 };
      record.utterances.push({ id: utt.id, ms: clock - utt.start - utt.silentMs, reason });
      session.finals.push(final);
      session.thoughts.push(thoughts);
      send(final);
      send(thoughts);
      send({ type: 'stats', utterance_id: utt.id, endpoint_wait_ms: utt.silentMs, speech_end_to_final_ms: utt.silentMs + 3 });
      utt = null;
    };

    const onText = (text) => {
      const msg = JSON.parse(text);
      if (msg.type === 'start') {
        record.starts.push(msg);
        if (msg.session_id) {
          session = sessions.get(msg.session_id);
          if (!session || session.token !== msg.resume_token) {
            send({ type: 'error', code: 'bad_request', message: 'unknown or expired resume token' });
            return close(1008);
          }
        } else {
          session = { id: crypto.randomUUID(), token: crypto.randomBytes(16).toString('hex'), finals: [], thoughts: [], next: 1 };
          sessions.set(session.id, session);
        }
        const replay = [
          ...session.finals.filter((f) => f.utterance_id > (msg.last_final ?? 0)),
          ...session.thoughts.filter((t) => t.utterance_id > (msg.last_thoughts ?? 0)),
        ].sort((a, b) => a.utterance_id - b.utterance_id || (a.type === 'final' ? -1 : 1));
        send({ type: 'session', session_id: session.id, resume_token: session.token, resumed: !!msg.session_id,
          replayed: replay.length, asr_engine: 'scripted', mind_engine: 'scripted', limits: { max_frame_bytes: 65536 } });
        for (const ev of replay) send(ev);
      } else {
        record.controls.push(msg.type);
        if (utt) finish(msg.type);
        if (msg.type === 'stop') close(1000);
      }
    };

    const onAudio = (pcm) => {
      record.frameBytes.push(pcm.length);
      for (let off = 0; off + 320 <= pcm.length; off += 320) { // 10 ms
        let sum = 0;
        for (let i = 0; i < 160; i++) sum += (pcm.readInt16LE(off + 2 * i) / 32768) ** 2;
        const rms = Math.sqrt(sum / 160);
        record.peakRms = Math.max(record.peakRms, rms);
        clock += 10;
        const speech = rms > 0.01;
        if (!utt && speech) utt = { id: session.next++, start: clock, silentMs: 0, lastPartial: clock, revision: 0 };
        if (!utt) continue;
        utt.silentMs = speech ? 0 : utt.silentMs + 10;
        if (utt.silentMs >= 500) { finish('silence'); continue; }
        if (clock - utt.lastPartial >= 250) {
          utt.lastPartial = clock;
          const words = SCRIPT[(utt.id - 1) % SCRIPT.length].split(' ');
          const n = Math.min(words.length, 1 + Math.floor((clock - utt.start) / 500));
          send({ type: 'partial', utterance_id: utt.id, revision: ++utt.revision, text: words.slice(0, n).join(' '), start_ms: utt.start });
        }
      }
    };

    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const f = parseFrame(buf);
        if (!f) break;
        buf = buf.subarray(f.size);
        if (f.opcode === 1) onText(f.payload.toString('utf8'));
        else if (f.opcode === 2) {
          if (!session) { send({ type: 'error', code: 'bad_request', message: 'audio before start' }); return close(1003); }
          onAudio(f.payload);
        } else if (f.opcode === 8) { socket.end(frame(8, f.payload.subarray(0, 2))); }
        else if (f.opcode === 9) socket.write(frame(10, f.payload));
      }
    });
    socket.on('error', () => {});
  }

  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => resolve({
      port: server.address().port,
      record,
      // Drops every connection without a close frame, like a network failure.
      dropAll: () => { for (const s of sockets) s.destroy(); },
      close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
    }));
  });
}

function frame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len])
    : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255])
    : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLen(len)]);
  return Buffer.concat([head, payload]);
}

function bigLen(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

// One client frame (always masked, never fragmented by browsers for these sizes), or null if incomplete.
function parseFrame(buf) {
  if (buf.length < 2) return null;
  const opcode = buf[0] & 0x0f;
  let len = buf[1] & 0x7f;
  let off = 2;
  if (len === 126) { if (buf.length < 4) return null; len = buf.readUInt16BE(2); off = 4; }
  else if (len === 127) { if (buf.length < 10) return null; len = Number(buf.readBigUInt64BE(2)); off = 10; }
  const masked = (buf[1] & 0x80) !== 0;
  const maskOff = off;
  if (masked) off += 4;
  if (buf.length < off + len) return null;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskOff + (i & 3)];
  return { opcode, payload, size: off + len };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  const fake = await startFakeServer({ port: Number(arg('--port') ?? 4300), apiKey: arg('--api-key') ?? null });
  console.log(`fake stream server on http://127.0.0.1:${fake.port}/ (scripted text, no recogniser)`);
}
