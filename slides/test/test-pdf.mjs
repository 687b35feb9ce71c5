#!/usr/bin/env node
// test-pdf.mjs: check the PDF handout made by `make slides-pdf` against the built deck.
//   - the page count is one page per slide plus one per slide with speaker notes (so no slide
//     spilled onto a second page and nothing was dropped);
//   - no page is blank (pdftotext finds text on every page);
//   - the pages come in deck order: page k of a slide shows that slide's title, and the page
//     after a slide with notes starts with "Speaker notes";
//   - every page has the same size.
// Uses pdfinfo and pdftotext (Debian's poppler-utils). Prints one line per check and, last,
// "N passed, N failed"; exit status 0 only when all pass.
//
// Usage: node slides/test/test-pdf.mjs [--out BUILD/slides] [--pdf FILE]
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = { out: path.join(here, '..', '..', 'build', 'slides') };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];
const pdf = path.resolve(opt.pdf ?? path.join(opt.out, 'ipc-handout.pdf'));
const deck = path.join(path.resolve(opt.out), 'ipc.html');

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed += 1; else failed += 1;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  return ok;
}
function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

if (!check('handout and deck exist', fs.existsSync(pdf) && fs.existsSync(deck),
  `${pdf}, ${deck}`)) finish();

// The deck, read from the HTML pandoc wrote: each slide's title and whether it has notes.
// Slides are the <section> elements with class "slide"; their notes are <aside class="notes">.
const html = fs.readFileSync(deck, 'utf8');
const text = (s) => s.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&lt;/g, '<')
  .replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
const slides = [];
const sectionRe = /<section\b[^>]*class="[^"]*\bslide\b[^"]*"[^>]*>([\s\S]*?)(?=<section\b|<\/div>\s*<\/div>\s*<script)/g;
for (let m = sectionRe.exec(html); m; m = sectionRe.exec(html)) {
  const body = m[1];
  const title = text(body.match(/<h[12][^>]*>([\s\S]*?)<\/h[12]>/)?.[1] ?? '').trim();
  slides.push({ title, notes: /<aside class="notes">/.test(body) });
}
const withNotes = slides.filter((s) => s.notes).length;
const expected = slides.length + withNotes;

const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
const pages = Number(info.match(/^Pages:\s+(\d+)/m)?.[1] ?? 0);
check('one page per slide, plus one per slide with notes', pages === expected,
  `${pages} pages for ${slides.length} slides, ${withNotes} with notes (expected ${expected})`);

const all = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
const pageText = all.split('\f').slice(0, pages);
const blank = pageText.map((t, i) => [i + 1, t]).filter(([, t]) => !/[\p{L}\p{N}]/u.test(t)).map(([i]) => i);
check('no blank page', pageText.length === pages && blank.length === 0,
  blank.length ? `blank: page ${blank.join(', ')}` : `${pages} pages with text`);

// Compare letters and digits only: quotes, dashes and spacing differ between HTML and PDF.
const squash = (s) => s.normalize('NFKD').replace(/[^\p{L}\p{N}]/gu, '').toLowerCase();
const wrong = [];
let p = 0;
for (const s of slides) {
  const want = squash(s.title).slice(0, 16);
  if (!squash(pageText[p] ?? '').includes(want)) wrong.push(`page ${p + 1}: "${s.title}"`);
  p += 1;
  if (s.notes) {
    if (!/^\s*Speaker notes/.test(pageText[p] ?? '')) wrong.push(`page ${p + 1}: notes of "${s.title}"`);
    p += 1;
  }
}
check('pages in deck order: each slide, then its notes', wrong.length === 0,
  wrong.length ? wrong.slice(0, 5).join(', ') : `${slides.length} slides matched`);

const sizes = new Set(execFileSync('pdfinfo', ['-f', '1', '-l', String(pages), pdf], { encoding: 'utf8' })
  .split('\n').filter((l) => /^Page\s+\d+\s+size:/.test(l)).map((l) => l.replace(/^Page\s+\d+\s+size:\s*/, '')));
check('every page has the same size', sizes.size === 1, [...sizes].join(' | '));
finish();
