// The official OpenAI SDK as a client of POST /v1/audio/transcriptions:
// existing SDK code must work unchanged against a scribepod server.
// Runs the real binary (SCRIBEPOD_BINARY) with the embedded PocketSphinx
// engine on a free loopback port, and real recorded speech encoded by ffmpeg.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';

const binary = process.env.SCRIBEPOD_BINARY;
const speech = '/usr/share/pocketsphinx/test/data/goforward.raw';
const apiKey = 'sdk-test-key';
let server;
let baseURL;
let workdir;

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['serve', '--port', '0', '--threads', '2'], {
      cwd: workdir,
      env: { PATH: process.env.PATH, API_KEY: apiKey, SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST: '1000' },
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 15000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/"message":"listening".*?"port":(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.stderr.on('data', (chunk) => { out += chunk; });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

before(async () => {
  assert.ok(binary, 'SCRIBEPOD_BINARY must point at the scribepod executable');
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'scribepod-sdk-'));
  for (const [name, args] of [
    ['speech.ogg', ['-c:a', 'libopus']],
    ['speech.mp3', ['-c:a', 'libmp3lame']],
  ]) {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 's16le', '-ar', '16000', '-ac', '1',
      '-i', speech, ...args, path.join(workdir, name)]);
  }
  const started = await startServer();
  server = started.child;
  baseURL = `http://127.0.0.1:${started.port}/v1`;
});

after(() => {
  server?.kill('SIGTERM');
  if (workdir) fs.rmSync(workdir, { recursive: true, force: true });
});

const client = () => new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 30000 });

test('json response with the default format', async () => {
  const result = await client().audio.transcriptions.create({
    file: fs.createReadStream(path.join(workdir, 'speech.ogg')),
    model: 'whisper-1',
  });
  assert.equal(result.text, 'go forward ten meters');
});

test('verbose_json carries segments, duration and language', async () => {
  const result = await client().audio.transcriptions.create({
    file: fs.createReadStream(path.join(workdir, 'speech.mp3')),
    model: 'whisper-1',
    language: 'en',
    response_format: 'verbose_json',
    timestamp_granularities: ['segment'],
  });
  assert.equal(result.text, 'go forward ten meters');
  assert.equal(result.language, 'en');
  assert.ok(result.duration > 2 && result.duration < 4, `duration ${result.duration}`);
  assert.ok(result.segments.length >= 1);
  assert.ok(result.segments[0].end > result.segments[0].start);
});

test('text, srt and vtt come back as plain strings', async () => {
  for (const [format, expected] of [
    ['text', /^go forward ten meters\n$/],
    ['srt', /^1\n00:00:0\d,\d{3} --> 00:00:0\d,\d{3}\ngo forward ten meters\n/],
    ['vtt', /^WEBVTT\n\n00:00:0\d\.\d{3} --> /],
  ]) {
    const result = await client().audio.transcriptions.create({
      file: fs.createReadStream(path.join(workdir, 'speech.ogg')),
      model: 'whisper-1',
      response_format: format,
    });
    assert.match(result, expected, format);
  }
});

test('a wrong key is an authentication error', async () => {
  const bad = new OpenAI({ apiKey: 'wrong', baseURL, maxRetries: 0 });
  await assert.rejects(
    bad.audio.transcriptions.create({
      file: fs.createReadStream(path.join(workdir, 'speech.ogg')),
      model: 'whisper-1',
    }),
    (err) => err.status === 401,
  );
});

test('a file that is not audio is rejected with 415', async () => {
  const notAudio = path.join(workdir, 'notes.txt');
  fs.writeFileSync(notAudio, 'this is not audio at all');
  await assert.rejects(
    client().audio.transcriptions.create({ file: fs.createReadStream(notAudio), model: 'whisper-1' }),
    (err) => err.status === 415,
  );
});
