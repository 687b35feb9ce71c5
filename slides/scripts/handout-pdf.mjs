#!/usr/bin/env node
// handout-pdf.mjs: print the built deck to a PDF handout with headless Chromium: each slide
// on its own page, followed by a page with its speaker notes (reveal.js's print mode,
// ?print-pdf&showNotes=separate-page). Section dividers have no notes, hence no notes page.
//
// Usage: node slides/scripts/handout-pdf.mjs [--out BUILD/slides] [--pdf FILE]
//        [--chromium /usr/bin/chromium]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = { out: path.join(here, '..', '..', 'build', 'slides'), chromium: '/usr/bin/chromium' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];
const pdf = path.resolve(opt.pdf ?? path.join(opt.out, 'ipc-handout.pdf'));
const deck = path.join(path.resolve(opt.out), 'ipc.html');
if (!fs.existsSync(deck)) {
  console.error(`handout-pdf: ${deck} is missing: run make slides first`);
  process.exit(1);
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-handout-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: opt.chromium,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let status = 0;
try {
  // Offline like the deck itself: anything that is not a local file is refused.
  await context.route(/^(?!file:|data:|blob:|about:)/i, (route) => route.abort());
  const page = await context.newPage();
  await page.goto(`${pathToFileURL(deck).href}?print-pdf&showNotes=separate-page`,
    { waitUntil: 'load', timeout: 30000 });
  // reveal.js lays the print pages out after it is ready; wait for the pages and the fonts.
  await page.waitForFunction(() => window.Reveal && Reveal.isReady()
    && document.querySelectorAll('.pdf-page').length > 0, null, { timeout: 30000 });
  await page.evaluate(async () => {
    await document.fonts.ready;
    await Promise.all([...document.images].map((i) => (i.complete ? null : i.decode().catch(() => {}))));
  });
  const pages = await page.evaluate(() => document.querySelectorAll('.pdf-page').length);
  const tmp = `${pdf}.tmp`;
  await page.pdf({ path: tmp, preferCSSPageSize: true, printBackground: true });
  fs.renameSync(tmp, pdf);
  console.log(`handout-pdf: ${pdf} (${pages} pages laid out by reveal.js)`);
} catch (err) {
  console.error(`handout-pdf: ${err.message.split('\n')[0]}`);
  status = 1;
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
