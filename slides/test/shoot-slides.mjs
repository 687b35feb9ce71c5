#!/usr/bin/env node
// shoot-slides.mjs: screenshots of chosen slides of the built deck, to look at by eye.
//
// Usage: node slides/test/shoot-slides.mjs [--out BUILD/slides] [--size 1280x720] TEXT...
// Each TEXT picks the first slide whose title contains it (case-insensitive); "all" takes
// every slide. PNGs go to BUILD/slides/shots/slide-NN-<title>.png (make test-slides empties
// screenshots/ on each run, not shots/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
let out = path.join(here, '..', '..', 'build', 'slides');
let size = '1280x720';
const wanted = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  if (argv[i] === '--out') out = argv[++i];
  else if (argv[i] === '--size') size = argv[++i];
  else wanted.push(argv[i].toLowerCase());
}
const [width, height] = size.split('x').map(Number);
const dir = path.join(out, 'shots');
fs.mkdirSync(dir, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-shoot-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width, height },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--hide-scrollbars'],
});
try {
  await context.route(/^(?!file:|data:|blob:|about:)/i, (route) => route.abort());
  const page = await context.newPage();
  await page.goto(pathToFileURL(path.join(out, 'ipc.html')).href);
  await page.waitForFunction(() => window.Reveal && window.Reveal.isReady());
  const slides = await page.evaluate(() => [...document.querySelectorAll('.reveal .slides section')]
    .filter((s) => !s.querySelector('section'))
    .map((s, i) => ({ i, where: Reveal.getIndices(s),
      title: (s.querySelector('h1, h2')?.textContent ?? '').trim() })));
  for (const s of slides) {
    if (!wanted.includes('all') && !wanted.some((w) => s.title.toLowerCase().includes(w))) continue;
    await page.evaluate(async ({ h, v }) => {
      Reveal.slide(h, v);
      await document.fonts.ready;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    }, s.where);
    const slug = s.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
    const file = path.join(dir, `slide-${String(s.i + 1).padStart(2, '0')}-${slug}.png`);
    await page.screenshot({ path: file });
    console.log(file);
  }
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
