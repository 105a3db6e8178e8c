#!/usr/bin/env node
// Browser tests of the built front end (frontend/dist) against the real service.
//
//   node tests/e2e/run.mjs
//
// It builds nothing: run `npm ci && npm run build` in frontend/ first. It starts the service
// with the demo experts on a free loopback port (embedded model), drives headless Chromium
// through a question, the progress, the answer cards, the moderator above them (whose
// `[post:EXPERT_ID/ID]` citation opens that expert's post), a citation's post and a 422; then starts
// a slow fake model API and a second service using it, and cancels a running query, asks of
// a model that groups its citations, opens a cited Russian post in English (the translation,
// then the original), watches the progress at phone width, and asks of a model
// API that fails (the reader's error message). It saves
// screenshots in artifacts/e2e/, prints the shipped JavaScript (gzipped) and the time to an
// interactive question box, ends with `N passed, M failed`, and exits non-zero on any failure.
// Every process it starts is stopped, also on failure or Ctrl-C; every wait is bounded.
//
// Environment (all optional):
//   EXPERTS_PANEL_VENV  the virtual environment with the service and its test dependencies
//                       (default: <repo>/.venv, which scripts/setup --test creates)
//   CHROMIUM            the browser (default: /usr/bin/chromium)
//   E2E_ARTIFACTS       where screenshots and service logs go (default: <repo>/artifacts/e2e)

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const DIST = join(ROOT, 'frontend', 'dist');
const VENV = resolve(process.env.EXPERTS_PANEL_VENV ?? join(ROOT, '.venv'));
const SERVICE = join(VENV, 'bin', 'experts-panel');
const PYTHON = join(VENV, 'bin', 'python');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? join(ROOT, 'artifacts', 'e2e'));
const JS_BUDGET_KB = 150;
const OVERALL_TIMEOUT_MS = 8 * 60_000;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const SLOW_MODEL_DELAY_S = 3;
const MODELS = {
  MODEL_MAP: 'test/map',
  MODEL_MEDIUM_SCORING: 'test/medium',
  MODEL_REDUCE: 'test/reduce',
  MODEL_TRANSLATION: 'test/translate',
  MODEL_COMMENT_GROUPS: 'test/groups',
  MODEL_COMMENT_SYNTHESIS: 'test/synthesis',
  MODEL_MODERATOR: 'test/moderator',
};

// ---------------------------------------------------------------- processes and clean-up

const children = new Set();
const scratch = [];

/** Start a process; its output goes to a log file in the artefacts folder. */
function start(name, command, args, { env, cwd, stdin = 'ignore' } = {}) {
  const log = createWriteStream(join(ARTIFACTS, `${name}.log`));
  const child = spawn(command, args, { cwd, env, stdio: [stdin, 'pipe', 'pipe'] });
  child.name = name;
  child.output = '';
  const keep = (chunk) => {
    log.write(chunk);
    child.output = (child.output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      log.end();
      resolveExit({ code, signal });
    });
    child.on('error', (error) => {
      children.delete(child);
      keep(Buffer.from(`\n[spawn failed: ${error.message}]\n`));
      log.end();
      resolveExit({ code: -1, signal: null });
    });
  });
  children.add(child);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs` if it is still there. */
async function stop(child, graceMs = 20_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await Promise.race([child.exited, sleep(5_000)]);
  }
}

let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    await Promise.all([...children].map((child) => stop(child)));
    for (const path of scratch) rmSync(path, { recursive: true, force: true });
  })();
  return cleaning;
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping what was started`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- small helpers

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** The environment for the service: ours without model keys or address settings. */
function serviceEnv(extra) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('OPENROUTER_') || key.startsWith('API_') || key.startsWith('MODEL_')) continue;
    if (['ENVIRONMENT', 'STATIC_DIR', 'DATABASE_URL', 'PRODUCTION_ORIGIN'].includes(key)) continue;
    env[key] = value;
  }
  return { ...env, LOG_LEVEL: 'INFO', ...extra };
}

async function waitForHealth(child, url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.exitCode ?? child.signalCode}):\n${child.output.slice(-3000)}`);
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${child.name} did not answer ${url}/health within ${ms / 1000} s:\n${child.output.slice(-3000)}`);
}

/** Wait for a line on a child's stdout that matches `pattern`; returns the match. */
function waitForLine(child, pattern, ms) {
  return withTimeout(
    new Promise((resolveLine, reject) => {
      let buffer = '';
      const onData = (chunk) => {
        buffer += chunk.toString();
        const match = buffer.match(pattern);
        if (match) {
          child.stdout.off('data', onData);
          resolveLine(match);
        }
      };
      child.stdout.on('data', onData);
      child.exited.then(({ code, signal }) => reject(new Error(`${child.name} exited (${code ?? signal}):\n${child.output.slice(-3000)}`)));
    }),
    ms,
    `${child.name}: waiting for ${pattern}`,
  );
}

// ---------------------------------------------------------------- the checks

const results = [];
const figures = {};

async function check(name, fn, ms = 60_000) {
  const started = Date.now();
  try {
    await withTimeout(Promise.resolve().then(fn), ms, name);
    results.push({ name, ok: true });
    console.log(`  ok    ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return true;
  } catch (error) {
    results.push({ name, ok: false, error });
    console.log(`  FAIL  ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n        ${String(error?.stack ?? error).split('\n').join('\n        ')}`);
    return false;
  }
}

function gzippedJavaScript() {
  const assets = join(DIST, 'assets');
  const files = readdirSync(assets).filter((f) => f.endsWith('.js'));
  assert(files.length > 0, `no JavaScript in ${assets}`);
  const bytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
  return { files: files.length, kb: bytes / 1024 };
}

/** Record every state each expert's progress row goes through (installed before asking). */
function recordProgress() {
  // Layout shifts not caused by the reader's own input (the click on Ask), summed: what
  // moves on the page while the answers stream in.
  window.__shift = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
  }).observe({ type: 'layout-shift' });
  window.__progress = {};
  const note = () => {
    for (const row of document.querySelectorAll('[data-expert-row]')) {
      const id = row.getAttribute('data-expert-row');
      const seen = (window.__progress[id] ??= { phases: [], statuses: [] });
      // React may batch two phase events into one render, so the row's own list of the
      // phases it went through is read rather than only the phase it shows at each moment.
      const phases = (row.getAttribute('data-phases') ?? '').split(' ').filter(Boolean);
      const status = row.getAttribute('data-status');
      for (const phase of phases) if (!seen.phases.includes(phase)) seen.phases.push(phase);
      if (status && !seen.statuses.includes(status)) seen.statuses.push(status);
    }
  };
  new MutationObserver(note).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-phases', 'data-status'],
  });
}

async function main() {
  const overall = setTimeout(() => {
    console.error(`\nthe whole run took longer than ${OVERALL_TIMEOUT_MS / 60_000} min: stopping`);
    cleanup().finally(() => process.exit(1));
  }, OVERALL_TIMEOUT_MS);

  mkdirSync(ARTIFACTS, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'experts-panel-e2e-'));
  scratch.push(work);
  const database = join(work, 'demo.db');
  const pageErrors = [];
  let context = null;
  let service = null;
  let fake = null;
  let page = null;
  let base = '';

  console.log('Experts Panel: browser tests');
  for (const [what, path] of [
    ['the built front end (npm run build in frontend/)', join(DIST, 'index.html')],
    ['the service (scripts/setup --test, or EXPERTS_PANEL_VENV)', SERVICE],
    ['Chromium (apt-get install -y chromium, or CHROMIUM)', CHROMIUM],
  ]) {
    if (!existsSync(path)) {
      console.error(`missing ${what}: ${path}`);
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
  }

  try {
    await check('the JavaScript shipped is under the budget, gzipped', () => {
      const { files, kb } = gzippedJavaScript();
      figures.js = `${kb.toFixed(1)} KB gzipped in ${files} file${files === 1 ? '' : 's'} (budget ${JS_BUDGET_KB} KB)`;
      assert(kb < JS_BUDGET_KB, `${kb.toFixed(1)} KB is over ${JS_BUDGET_KB} KB`);
    });

    const serviceUp = await check(
      'the service starts with the demo experts and serves the front end',
      async () => {
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        service = start('service-embedded', SERVICE, ['demo'], {
          cwd: work,
          env: serviceEnv({
            DATABASE_URL: `sqlite+aiosqlite:///${database}`,
            API_HOST: '127.0.0.1',
            API_PORT: String(port),
            STATIC_DIR: DIST,
          }),
        });
        await waitForHealth(service, base, 150_000);
        const html = await (await fetch(`${base}/`, { signal: AbortSignal.timeout(5_000) })).text();
        assert(html.includes('<div id="root">'), 'GET / is not the front end');
      },
      160_000,
    );

    context = await withTimeout(
      chromium.launchPersistentContext(join(work, 'chromium-profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
        viewport: DESKTOP,
        locale: 'en-GB',
        timeout: 30_000,
      }),
      40_000,
      'launching Chromium',
    );
    context.setDefaultTimeout(15_000);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // The browser logs every failed request (the 422, the cancelled stream, the stopped
      // server) as a console error; those are the tests' own doing.
      if (message.type() === 'error' && !/Failed to load resource|net::ERR_/.test(message.text())) {
        pageErrors.push(message.text());
      }
    });

    if (serviceUp) {
      await check('the question box becomes interactive', async () => {
        await page.goto(base, { waitUntil: 'domcontentloaded' });
        const handle = await page.waitForFunction(
          () => {
            const box = document.querySelector('textarea');
            return box && !box.disabled ? performance.now() : null;
          },
          null,
          { polling: 'raf', timeout: 15_000 },
        );
        const ms = await handle.jsonValue();
        const nav = await page.evaluate(() => {
          const entry = performance.getEntriesByType('navigation')[0];
          return entry ? { dcl: entry.domContentLoadedEventEnd, load: entry.loadEventEnd } : null;
        });
        figures.tti = `${Math.round(ms)} ms from navigation to an enabled question box` +
          (nav ? ` (DOMContentLoaded at ${Math.round(nav.dcl)} ms)` : '');
        const boxes = page.locator('input[name="expert"]');
        await boxes.first().waitFor();
        assert((await boxes.count()) === 3, `expected the 3 demo experts, found ${await boxes.count()}`);
        for (const box of await boxes.all()) assert(await box.isChecked(), 'every expert is chosen by default');
      });

      await check('asking shows progress for each expert, then every answer card', async () => {
        await page.evaluate(recordProgress);
        await page.locator('textarea').fill('Как делать бэкапы SQLite?');
        assert((await page.locator('h1').textContent()).includes('Панель экспертов'), 'the page follows the Russian question');
        await page.locator('input[name="include_comment_groups"]').check();
        await page.getByRole('button', { name: 'Спросить' }).click();
        await page.locator('[data-query-status="running"]').waitFor({ timeout: 10_000 });
        await page.locator('[data-query-status="complete"]').waitFor({ timeout: 90_000 });
        const progress = await page.evaluate(() => window.__progress);
        const ids = Object.keys(progress).sort();
        assert(ids.join() === 'ai_architect,product_notes,selfhost_ops', `progress rows: ${ids.join()}`);
        for (const id of ids) {
          const seen = progress[id];
          assert(seen.phases.includes('map') && seen.phases.length >= 3, `${id} went through phases ${seen.phases.join(' → ')}`);
          assert(seen.statuses.includes('running') && seen.statuses.at(-1) === 'done', `${id} went ${seen.statuses.join(' → ')}`);
        }
        const cards = page.locator('[data-answer-card]');
        assert((await cards.count()) === 3, `expected 3 answer cards, found ${await cards.count()}`);
        for (const card of await cards.all()) {
          const id = await card.getAttribute('data-answer-card');
          assert((await card.getAttribute('data-status')) === 'done', `${id}'s card is ${await card.getAttribute('data-status')}`);
          assert((await card.locator('[data-confidence]').count()) === 1, `${id}: no confidence`);
          assert(Number(await card.locator('[data-sources]').textContent()) >= 1, `${id}: no sources`);
          assert((await card.locator('button[data-post-id]').count()) >= 1, `${id}: no citations`);
        }
        assert((await page.getByText('Что добавляют комментарии').count()) >= 1, 'no comment insights shown');
        assert((await page.locator('[data-answer-card] details').count()) >= 1, 'no comment groups shown');
        const status = await page.locator('[data-query-status]').textContent();
        assert(/Готово за .*ответили 3 из 3/.test(status), `status line: ${status}`);
        const shift = await page.evaluate(() => window.__shift);
        figures.shift = `${shift.toFixed(3)} (layout shift while the answers streamed in, at 1280×900; "good" is under 0.1)`;
        assert(shift < 0.1, `the page moved while the answers arrived: layout shift ${shift.toFixed(3)}`);
      }, 120_000);

      await check('screenshots of the finished page at desktop and phone width', async () => {
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(ARTIFACTS, 'desktop.png'), fullPage: true });
        await page.setViewportSize(PHONE);
        await page.evaluate(() => window.scrollTo(0, 0));
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        await page.screenshot({ path: join(ARTIFACTS, 'phone.png'), fullPage: true });
        await page.screenshot({ path: join(ARTIFACTS, 'phone-first-screen.png') });
        await page.setViewportSize(DESKTOP);
        assert(overflow <= 0, `the phone layout is ${overflow}px wider than the screen`);
      });

      await check('a citation opens its post; Escape closes it and focus returns', async () => {
        const citation = page.locator('[data-answer-card="selfhost_ops"] button[data-post-id]').first();
        const id = await citation.getAttribute('data-post-id');
        await citation.click();
        const dialog = page.getByRole('dialog');
        await dialog.waitFor();
        const view = dialog.locator(`[data-post-view="${id}"]`);
        await view.waitFor();
        assert((await dialog.locator('h2').textContent()).includes(id), 'the dialog names the post');
        const text = (await view.textContent()) ?? '';
        assert(text.length > 80, 'the post text is shown');
        assert((await view.locator('time').first().getAttribute('datetime'))?.startsWith('20'), 'the post date is shown');
        const link = await view.getByRole('link', { name: /Telegram/ }).getAttribute('href');
        assert(new RegExp(`^https://t\\.me/selfhost_ops_demo/${id}$`).test(link), `t.me link: ${link}`);
        assert(/Комментарии \(\d+\)/.test(text), 'the comments are listed');
        await page.screenshot({ path: join(ARTIFACTS, 'post.png') });
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'detached' });
        await page.waitForFunction((postId) => document.activeElement?.getAttribute('data-post-id') === postId, id, { timeout: 5_000 });
      });

      await check('the moderator, on by default, sets the answers side by side above the cards; its citation opens that expert’s post', async () => {
        assert(await page.locator('input[name="moderator"]').isChecked(), 'the moderator switch is on by default');
        const moderator = page.locator('[data-moderator="ready"]');
        await moderator.waitFor();
        const firstCard = page.locator('[data-answer-card]').first();
        const above = await moderator.evaluate(
          (el, card) => Boolean(el.compareDocumentPosition(card) & Node.DOCUMENT_POSITION_FOLLOWING),
          await firstCard.elementHandle(),
        );
        assert(above, 'the moderator is shown above the expert cards');
        const experts = await moderator.locator('button[data-expert-id]').evaluateAll((els) => els.map((el) => el.dataset.expertId));
        assert(new Set(experts).size === 3, `the moderator cites each expert: ${experts.join(', ')}`);
        // Not the first card's expert: the citation must open the post of the expert it names.
        const citation = moderator.locator('button[data-expert-id="ai_architect"]').first();
        const id = await citation.getAttribute('data-post-id');
        await moderator.scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(ARTIFACTS, 'moderator.png') });
        await citation.click();
        const dialog = page.getByRole('dialog');
        await dialog.waitFor();
        const view = dialog.locator(`[data-post-view="${id}"]`);
        await view.waitFor();
        const link = await view.getByRole('link', { name: /Telegram/ }).getAttribute('href');
        assert(new RegExp(`^https://t\\.me/ai_architect_demo/${id}$`).test(link), `the moderator's citation opened ${link}`);
        assert((await dialog.textContent()).includes('Архитектор ИИ'), 'the dialog names the expert');
        await page.screenshot({ path: join(ARTIFACTS, 'moderator-post.png') });
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'detached' });
        // Focus returns to the citation in a task of its own: the next check starts after it.
        await page.waitForFunction(
          (postId) => document.activeElement?.getAttribute('data-expert-id') === 'ai_architect' && document.activeElement?.getAttribute('data-post-id') === postId,
          id,
          { timeout: 5_000 },
        );
      });

      await check('the keyboard reaches every control, with a visible focus ring', async () => {
        await page.locator('textarea').focus();
        await page.keyboard.press('Tab');
        const first = await page.evaluate(() => {
          const el = document.activeElement;
          return { name: el?.getAttribute('name'), tag: el?.tagName, text: el?.textContent?.slice(0, 40), outline: getComputedStyle(el).outlineStyle, width: getComputedStyle(el).outlineWidth };
        });
        assert(first.name === 'expert', `Tab from the question went to ${JSON.stringify(first)}`);
        assert(first.outline !== 'none' && first.width !== '0px', `no visible focus: ${JSON.stringify(first)}`);
        const order = [];
        for (let i = 0; i < 6; i += 1) {
          await page.keyboard.press('Tab');
          order.push(await page.evaluate(() => document.activeElement?.getAttribute('name') ?? document.activeElement?.textContent));
        }
        assert(order.join('|').startsWith('expert|expert|include_comment_groups|moderator|recent_months|Спросить'), `tab order: ${order.join(' → ')}`);
      });

      await check('a too-short question goes to the server, whose reason shows beside the field', async () => {
        const box = page.locator('textarea');
        await box.fill('ab');
        const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/query') && r.request().method() === 'POST', { timeout: 15_000 });
        await page.getByRole('button', { name: /^(Ask|Спросить)$/ }).click();
        const response = await refused;
        assert(response.status() === 422, `the server answered ${response.status()}`);
        const reason = (await response.json()).detail.find((d) => d.loc?.[1] === 'query')?.msg;
        assert(reason, 'the 422 names the query field');
        const shown = page.locator('[data-field-error="query"]');
        await shown.waitFor();
        const words = await shown.textContent();
        assert(words.includes(reason), `shown "${words}", the server said "${reason}"`);
        assert((await box.getAttribute('aria-invalid')) === 'true', 'the field is marked invalid');
        const describedBy = (await box.getAttribute('aria-describedby')).split(' ');
        const errorId = await shown.evaluate((el) => el.parentElement.id);
        assert(describedBy.includes(errorId), 'the reason describes the field');
        assert((await page.locator('[data-answer-card]').count()) === 3, 'the previous answers stay');
        await page.screenshot({ path: join(ARTIFACTS, 'validation.png') });
      });
    }

    await stop(service);
    service = null;

    const slowUp = await check(
      'a second service starts, its model a slow fake OpenAI-compatible server',
      async () => {
        fake = start('fake-openai', PYTHON, [join(HERE, 'slow_openai.py'), '--delay', String(SLOW_MODEL_DELAY_S)], {
          cwd: ROOT,
          stdin: 'pipe',
          env: { ...process.env, PYTHONUNBUFFERED: '1' },
        });
        const [, modelUrl] = await waitForLine(fake, /READY (http:\/\/127\.0\.0\.1:\d+\/v1)/, 30_000);
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        // The demo database the first service built (it was stopped cleanly); without it, the
        // demo command builds one.
        const command = existsSync(database) ? ['serve'] : ['demo'];
        service = start('service-slow-model', SERVICE, command, {
          cwd: work,
          env: serviceEnv({
            DATABASE_URL: `sqlite+aiosqlite:///${database}`,
            API_HOST: '127.0.0.1',
            API_PORT: String(port),
            STATIC_DIR: DIST,
            OPENROUTER_API_KEY: 'sk-e2e-fake',
            OPENROUTER_BASE_URL: modelUrl,
            MODEL_MAX_ATTEMPTS: '1',
            ...MODELS,
          }),
        });
        await waitForHealth(service, base, 150_000);
      },
      160_000,
    );

    if (slowUp) {
      await check('Cancel stops a running query: the page says so and the service stops the work', async () => {
        await page.goto(base, { waitUntil: 'domcontentloaded' });
        await page.locator('input[name="expert"]').first().waitFor();
        await page.locator('textarea').fill('How should I back up SQLite?');
        const before = (fake.output.match(/^REQUEST /gm) ?? []).length;
        await page.getByRole('button', { name: 'Ask' }).click();
        // Running, in the map phase, with the model's calls on their way.
        await page.locator('[data-expert-row][data-phase="map"][data-status="running"]').first().waitFor({ timeout: 20_000 });
        const deadline = Date.now() + 10_000;
        while ((fake.output.match(/^REQUEST /gm) ?? []).length === before && Date.now() < deadline) await sleep(100);
        await page.getByRole('button', { name: 'Cancel' }).click();
        const status = page.locator('[data-query-status="cancelled"]');
        await status.waitFor({ timeout: 5_000 });
        assert(/Cancelled/.test(await status.textContent()), 'the status line says cancelled');
        const calls = (fake.output.match(/^REQUEST /gm) ?? []).length - before;
        const statuses = await page.locator('[data-expert-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
        assert(statuses.length === 3 && statuses.every((s) => s === 'stopped'), `rows after cancel: ${statuses.join(', ')}`);
        assert(await page.getByRole('button', { name: 'Ask' }).isEnabled(), 'Ask is available again');
        await page.screenshot({ path: join(ARTIFACTS, 'cancelled.png') });
        // Had the work gone on, the map answers (due SLOW_MODEL_DELAY_S after they were asked)
        // would have led to the next phases' calls.
        await sleep((SLOW_MODEL_DELAY_S + 2) * 1000);
        const later = (fake.output.match(/^REQUEST /gm) ?? []).length - before;
        assert(later === calls, `the model got ${later - calls} more calls after Cancel`);
        const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) });
        assert(health.ok, 'the service is healthy after the cancel');
      }, 60_000);

      /** Change how the fake model answers (see slow_openai.py), once it says it has. */
      const setFake = async (line) => {
        const done = waitForLine(fake, new RegExp(`^SET ${line}$`, 'm'), 5_000);
        fake.stdin.write(`${line}\n`);
        await done;
      };

      /** Ask `question` of every expert from the top of a freshly loaded page. */
      const askAll = async (question) => {
        await page.goto(base, { waitUntil: 'domcontentloaded' });
        await page.locator('input[name="expert"]').first().waitFor();
        await page.locator('textarea').fill(question);
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.getByRole('button', { name: 'Спросить' }).click();
      };

      await check('grouped citations from the model become citation buttons, and the text around them stays', async () => {
        await setFake('delay 0');
        await setFake('grouped on');
        await askAll('Как делать бэкапы SQLite?');
        await page.locator('[data-query-status="complete"]').waitFor({ timeout: 60_000 });
        const answer = page.locator('[data-answer-card="selfhost_ops"] [data-markdown="answer"]');
        const text = await answer.textContent();
        // The model wrote "Бэкап делаю командой .backup [post:A, post:B]."
        assert(text.includes('командой .backup'), `the space before ".backup" was lost: ${text}`);
        assert(!text.includes('[post'), `a citation reached the reader as text: ${text}`);
        const ids = await answer.locator('button[data-post-id]').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-post-id')));
        assert(ids.length === 2 && new Set(ids).size === 2, `the group gave buttons for ${ids.join(', ')}`);
        const sources = Number(await page.locator('[data-answer-card="selfhost_ops"] [data-sources]').textContent());
        assert(sources >= 2, `the grouped posts are not all sources: ${sources}`);
        await answer.locator('button[data-post-id]').nth(1).click();
        await page.getByRole('dialog').locator(`[data-post-view="${ids[1]}"]`).waitFor();
        await page.keyboard.press('Escape');
        await setFake('grouped off');
      }, 90_000);

      await check('asked in English, a cited Russian post opens translated, and the toggle shows the original', async () => {
        await setFake('delay 0');
        await page.goto(base, { waitUntil: 'domcontentloaded' });
        await page.locator('input[name="expert"]').first().waitFor();
        await page.locator('textarea').fill('How should I back up SQLite?');
        await page.getByRole('button', { name: 'Ask' }).click();
        await page.locator('[data-query-status="complete"]').waitFor({ timeout: 60_000 });
        const buttons = page.locator('[data-answer-card="selfhost_ops"] [data-markdown="answer"] button[data-post-id]');
        const count = await buttons.count();
        assert(count > 0, 'the answer cites no post');
        const dialog = page.getByRole('dialog');
        // The fake model cites the first posts it was shown; the first Russian one of them.
        let opened = null;
        for (let i = 0; i < count && opened === null; i += 1) {
          const id = await buttons.nth(i).getAttribute('data-post-id');
          await buttons.nth(i).click();
          await dialog.locator(`[data-post-view="${id}"]`).waitFor();
          if ((await dialog.locator('[data-translation-view="translation"]').count()) > 0) opened = id;
          else await page.keyboard.press('Escape');
        }
        assert(opened !== null, `none of the ${count} cited posts came translated`);
        const note = dialog.locator('[data-translation-view]');
        assert((await note.textContent()).includes('Machine translation from Russian'), `note: ${await note.textContent()}`);
        const text = dialog.locator(`[data-post-view="${opened}"] [data-markdown="post"]`);
        const translated = await text.textContent();
        // The fake model's translation is the original marked "(English)".
        assert(translated.startsWith('(English) '), `not the translation: ${translated.slice(0, 80)}`);
        await page.screenshot({ path: join(ARTIFACTS, 'post-translated.png') });
        await dialog.getByRole('button', { name: 'Show the original' }).click();
        await dialog.locator('[data-translation-view="original"]').waitFor();
        const original = await text.textContent();
        assert(!original.startsWith('(English)') && translated.endsWith(original.slice(-60)), `not the original: ${original.slice(0, 80)}`);
        assert(/[а-яё]/i.test(original), 'the original is not Russian');
        assert((await note.textContent()).includes('The original (Russian)'), `note: ${await note.textContent()}`);
        await page.screenshot({ path: join(ARTIFACTS, 'post-original.png') });
        await dialog.getByRole('button', { name: 'Show the translation' }).click();
        await dialog.locator('[data-translation-view="translation"]').waitFor();
        await page.keyboard.press('Escape');
      }, 90_000);

      await check('on a phone, Ask brings the progress into view, and a summary with the running time stays in sight', async () => {
        await setFake('delay 1');
        await page.setViewportSize(PHONE);
        try {
          await askAll('Как делать бэкапы SQLite?');
          await page.locator('[data-query-status="running"]').waitFor({ timeout: 10_000 });
          // The smooth scroll takes a moment: it ends with the status line at the top of the
          // screen and the progress right under it.
          await page.waitForFunction(
            () => {
              const top = document.getElementById('query-status')?.getBoundingClientRect().top;
              return top !== undefined && Math.abs(top) < 2;
            },
            null,
            { timeout: 5_000 },
          );
          const seen = await page.evaluate(() => ({
            progress: document.getElementById('progress-title').closest('section').getBoundingClientRect().toJSON(),
            form: document.querySelector('textarea').getBoundingClientRect().toJSON(),
            height: window.innerHeight,
          }));
          assert(seen.progress.top >= 0 && seen.progress.top < seen.height, `progress at ${seen.progress.top}px of ${seen.height}px`);
          assert(seen.form.bottom < seen.progress.top, 'the form is still where the progress should be');
          const status = page.locator('[data-query-status="running"]');
          const first = await status.textContent();
          assert(/Эксперты отвечают: \d из 3 · \d+ с/.test(first), `no summary with the running time: ${first}`);
          await page.screenshot({ path: join(ARTIFACTS, 'phone-asked.png') });
          await sleep(2_100);
          const later = await status.textContent();
          const seconds = (line) => Number(line.match(/· (\d+) с/)[1]);
          assert(seconds(later) >= seconds(first) + 2, `the running time did not run: "${first}" then "${later}"`);
          // Far down the page, the summary is still at the top of the screen.
          await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
          await sleep(300);
          const bar = await status.evaluate((el) => ({ ...el.getBoundingClientRect().toJSON(), scrolled: window.scrollY }));
          assert(bar.scrolled > 0 && bar.top >= 0 && bar.bottom <= 844 && bar.top < 10, `the summary is not in sight: ${JSON.stringify(bar)}`);
          await page.screenshot({ path: join(ARTIFACTS, 'phone-scrolled.png') });
          await page.locator('[data-query-status="complete"]').waitFor({ timeout: 90_000 });
        } finally {
          await page.setViewportSize(DESKTOP);
          await setFake('delay 0');
        }
      }, 120_000);

      await check('when the model API fails, the reader is told in Russian what happened and what to do', async () => {
        await setFake('fail on');
        try {
          await askAll('Как делать бэкапы SQLite?');
          const status = page.locator('[data-query-status="complete"]');
          await status.waitFor({ timeout: 60_000 });
          const line = await status.textContent();
          assert(
            line.includes('Ни один из 3 экспертов не ответил: Языковая модель не отвечает (3). Повторите через несколько минут.'),
            `status line: ${line}`,
          );
          assert(!/Готово/.test(line), `the status line says done: ${line}`);
          assert(await status.getByRole('button', { name: 'Повторить' }).isVisible(), 'a Retry button is offered');
          const cards = await page.locator('[data-answer-card] [role="alert"]').allTextContents();
          assert(cards.length === 3 && cards.every((c) => c.includes('Языковая модель не отвечает. Повторите через несколько минут.')), `cards: ${cards.join(' | ')}`);
          const page_text = await page.locator('body').textContent();
          assert(!/model API|did not answer/.test(page_text), 'the service’s English line reached the reader');
          await page.evaluate(() => window.scrollTo(0, 0));
          await page.screenshot({ path: join(ARTIFACTS, 'error.png'), fullPage: true });
          await page.setViewportSize(PHONE);
          await status.scrollIntoViewIfNeeded();
          await page.screenshot({ path: join(ARTIFACTS, 'phone-error.png') });
        } finally {
          await page.setViewportSize(DESKTOP);
          await setFake('fail off');
        }
        // The page is left English, as the next check expects.
        await page.locator('textarea').fill('How should I back up SQLite?');
      }, 90_000);

      await check('with the service gone, asking says the server cannot be reached', async () => {
        await stop(service);
        service = null;
        await page.getByRole('button', { name: 'Ask' }).click();
        const status = page.locator('[data-query-status="failed"]');
        await status.waitFor({ timeout: 10_000 });
        assert(/cannot be reached/.test(await status.textContent()), `status: ${await status.textContent()}`);
        assert(await status.getByRole('button', { name: 'Retry' }).isVisible(), 'a Retry button is offered');
      });
    }

    await check('no JavaScript errors on the page', () => {
      assert(pageErrors.length === 0, pageErrors.join('\n'));
    });
  } catch (error) {
    results.push({ name: 'the run itself', ok: false, error });
    console.log(`  FAIL  the run itself\n        ${String(error?.stack ?? error)}`);
  } finally {
    if (context) await withTimeout(context.close(), 20_000, 'closing Chromium').catch(() => undefined);
    fake?.stdin?.end();
    await cleanup();
    clearTimeout(overall);
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log('');
  console.log(`JavaScript shipped: ${figures.js ?? 'not measured'}`);
  console.log(`Time to an interactive question box: ${figures.tti ?? 'not measured'}`);
  console.log(`Layout shift: ${figures.shift ?? 'not measured'}`);
  console.log(`Screenshots and logs: ${ARTIFACTS}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch(async (error) => {
  console.error(error);
  await cleanup();
  console.log('0 passed, 1 failed');
  process.exit(1);
});
