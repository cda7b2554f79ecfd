// The page's side of the protocol, in headless Chromium with a fake
// microphone playing real speech, against the scripted server in
// fake_stream_server.mjs (which records what the page sends). Needs no C++
// build; live.spec.mjs is the test of the whole pipeline.
//   node tests/e2e/page.spec.mjs      (exit status 0 pass, 1 fail)
// Checks: start message and 100 ms PCM16 frames at 16 kHz (in both capture
// paths), speech on/off timing survives resampling, partial vs final
// styling, thoughts cards and mind state, the space bar, resume after a
// dropped connection without duplicates, the API key asked once and kept,
// and a denied microphone.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumPath, launchChromium, loadPlaywright, makeSpeechWav, waitFor, webDist } from './harness.mjs';
import { startFakeServer } from './fake_stream_server.mjs';

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(true);
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    results.push(false);
    console.log(`FAIL ${name}: ${err.stack ?? err}`);
  }
}

const text = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));

async function withPage(browser, fake, query, fn) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
  try {
    await page.goto(`http://127.0.0.1:${fake.port}/${query}`);
    await fn(page, context);
  } finally {
    await context.close();
  }
}

async function speechTest(browser, query) {
  const fake = await startFakeServer();
  try {
    await withPage(browser, fake, query, async (page) => {
      await page.getByRole('button', { name: 'Start' }).click();
      // Read the style in the same tick that finds the partial: the next revision replaces the element.
      const pStyle = await page.waitForFunction(() => {
        const e = document.querySelector('#transcript .partial');
        return e ? [getComputedStyle(e).fontStyle, getComputedStyle(e).color] : null;
      }, null, { timeout: 15000 }).then((h) => h.jsonValue());
      await page.waitForFunction(() => document.querySelectorAll('#transcript .final').length >= 2, null, { timeout: 20000 });
      const fStyle = await page.$eval('#transcript .final', (e) => [getComputedStyle(e).fontStyle, getComputedStyle(e).color]);
      assert.deepEqual(pStyle, ['italic', 'rgb(92, 92, 92)']);
      assert.deepEqual(fStyle, ['normal', 'rgb(22, 24, 29)']);
      const finals = await text(page, '#transcript .final');
      assert.deepEqual(finals.slice(0, 2), ['go forward ten meters', 'two nine three four zero']);
      await page.waitForSelector('#cards .card:nth-child(2)', { timeout: 5000 });
      const cards = await text(page, '#cards .card h3');
      assert.deepEqual(cards.slice(0, 2), ['“two nine three four zero”', '“go forward ten meters”']);
      const mind = await page.$eval('#mind', (e) => e.innerText);
      assert.match(mind, /they said two nine three four zero[\s\S]*they said go forward ten meters/);
      assert.equal(await page.$eval('#engines', (e) => e.textContent), 'Recogniser scripted · Mind scripted');
      // The space bar ends the turn, even with the Stop button focused (which it must not press).
      await page.getByRole('button', { name: 'Stop' }).focus();
      await page.keyboard.press('Space');
      await waitFor('end_of_turn to arrive', () => fake.record.controls.includes('end_of_turn'), 3000);
      assert.equal(await page.$eval('#toggle', (e) => e.textContent), 'Stop');
      await page.getByRole('button', { name: 'Stop' }).click();
      await waitFor('stop to arrive', () => fake.record.controls.includes('stop'), 3000);
      await waitFor('Stopped', () => page.$eval('#connection', (e) => e.textContent === 'Stopped'), 3000);
      const rate = await page.evaluate(() => window.scribepod.inputRate);
      console.log(`  context rate ${rate} Hz; utterances (speech ms): ${fake.record.utterances.map((u) => u.ms).join(', ')}`);
    });
    const r = fake.record;
    assert.deepEqual(r.starts[0], { type: 'start', sample_rate: 16000, encoding: 'pcm16' });
    const full = r.frameBytes.slice(0, -1);
    assert.ok(full.length > 30 && full.every((b) => b === 3200), `frames of 100 ms: ${r.frameBytes.slice(0, 10)}`);
    assert.ok(r.peakRms > 0.05, `audio is not silent: peak ${r.peakRms}`);
    // goforward.raw has about 1.8 s of speech, the digits about 1.9 s: resampling kept the timing.
    const [go, digits] = r.utterances;
    assert.ok(go.ms > 1200 && go.ms < 2600, `first utterance ${go.ms} ms`);
    assert.ok(digits.ms > 1200 && digits.ms < 2600, `second utterance ${digits.ms} ms`);
  } finally {
    await fake.close();
  }
}

async function main() {
  if (!fs.existsSync(path.join(webDist, 'index.html'))) throw new Error('run `npm ci && npm run build` in web/ first');
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'scribepod-page-'));
  const browser = await launchChromium(makeSpeechWav(workdir));
  try {
    await check('speech → partials, finals, cards, mind state, space bar, stop (16 kHz context)', () => speechTest(browser, ''));
    await check('the same with the worklet resampling from the device rate', () => speechTest(browser, '?capture=native'));

    await check('resume after a dropped connection, nothing duplicated', async () => {
      const fake = await startFakeServer();
      try {
        await withPage(browser, fake, '', async (page) => {
          await page.getByRole('button', { name: 'Start' }).click();
          await page.waitForSelector('#cards .card', { timeout: 20000 });
          fake.dropAll();
          await page.waitForSelector('#alert[data-kind="disconnected"]', { timeout: 5000 });
          await waitFor('a second start', () => fake.record.starts.length >= 2, 8000);
          await waitFor('Live again', () => page.$eval('#connection', (e) => e.textContent === 'Live'), 5000);
          await page.waitForFunction(() => document.querySelectorAll('#transcript .final').length >= 3, null, { timeout: 20000 });
          const ids = await page.$$eval('#transcript .utterance', (els) => els.map((e) => e.dataset.utterance));
          assert.equal(new Set(ids).size, ids.length, `no duplicated utterances: ${ids}`);
          assert.equal(await page.$eval('#alert', (e) => e.hidden), true);
        });
        const [first, second] = fake.record.starts;
        assert.equal(first.session_id, undefined);
        assert.ok(second.session_id && second.resume_token, 'the second start resumes');
        assert.ok(second.last_final >= 1 && second.last_thoughts >= 1, JSON.stringify(second));
      } finally {
        await fake.close();
      }
    });

    await check('401: the API key is asked for once and kept in local storage', async () => {
      const fake = await startFakeServer({ apiKey: 's3cret' });
      try {
        await withPage(browser, fake, '', async (page) => {
          await page.getByRole('button', { name: 'Start' }).click();
          await page.waitForSelector('#key-form:not([hidden])', { timeout: 8000 });
          assert.match(await page.$eval('#alert', (e) => e.textContent), /needs an API key/);
          await page.getByLabel('API key for this server').fill('s3cret');
          await page.getByRole('button', { name: 'Save and connect' }).click();
          await waitFor('Live', () => page.$eval('#connection', (e) => e.textContent === 'Live'), 8000);
          assert.equal(await page.evaluate(() => localStorage.getItem('scribepod.apiKey')), 's3cret');
          await page.getByRole('button', { name: 'Stop' }).click();
          await page.reload();
          await page.getByRole('button', { name: 'Start' }).click();
          await waitFor('Live after reload', () => page.$eval('#connection', (e) => e.textContent === 'Live'), 8000);
          assert.equal(await page.$eval('#key-form', (e) => e.hidden), true);
        });
        assert.equal(fake.record.starts.length, 2);
      } finally {
        await fake.close();
      }
    });
  } finally {
    await browser.close();
  }

  await check('a denied microphone gives a clear message', async () => {
    const { chromium } = loadPlaywright();
    const denying = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--use-fake-device-for-media-stream'] });
    const fake = await startFakeServer();
    try {
      await withPage(denying, fake, '', async (page) => {
        await page.getByRole('button', { name: 'Start' }).click();
        await page.waitForSelector('#alert:not([hidden])', { timeout: 8000 });
        assert.match(await page.$eval('#alert', (e) => e.textContent), /Microphone access was denied/);
        assert.equal(await page.$eval('#toggle', (e) => e.textContent), 'Start');
      });
      assert.equal(fake.record.connections, 0);
    } finally {
      await fake.close();
      await denying.close();
    }
  });
  fs.rmSync(workdir, { recursive: true, force: true });
}

main().then(
  () => {
    const failed = results.filter((r) => !r).length;
    console.log(`${results.length - failed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  },
  (err) => {
    console.error(`FAIL: ${err.stack ?? err}`);
    process.exit(1);
  },
);
