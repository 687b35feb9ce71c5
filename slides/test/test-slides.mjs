#!/usr/bin/env node
// test-slides.mjs: open the built lecture deck in Debian's headless Chromium, from the file
// system, and check what a teacher would notice in front of a class.
//
// For build/slides/ipc.html and for a lone copy of build/slides/ipc-standalone.html:
//   - the deck loads and reveal.js reports as many slides as the Markdown source has
//     (counted here, independently, from slides/md/*.md);
//   - every slide can be shown without a JavaScript error; walking the deck at 1280x720 and
//     again at 1024x768, on no slide is an element or a line of text drawn outside the frame,
//     does a code block's text overflow its panel (scroll size larger than client size of the
//     <pre> or <code>), or does text, an image or a coloured panel sit under the navigation
//     arrows or the slide number; code is drawn at 20 px or more at 1280x720;
//   - the bundled code font (fonts/DejaVuSansMono*.ttf) loads;
//   - no slide has more than 90 words of text (code and notes aside; the slide of class
//     "references" is exempt); every slide but the section dividers has speaker notes; the
//     first slide's notes give the running time in minutes; slide numbers read "c/t"; slide
//     titles sit at one height;
//   - no request leaves the machine (any URL that is not file:, data:, blob: or about: fails),
//     no local file is missing, and the standalone deck loads nothing but itself;
//   - every diagram image loads; code is syntax-highlighted; speaker notes are present and
//     the speaker view opens with the `s` key;
//   - screenshots of the title, a code slide and a diagram slide are not blank.
// Prints one line per check and, last, "N passed, N failed". Exit status 0 only when all pass.
//
// Usage: node slides/test/test-slides.mjs [--root REPO] [--out BUILD/slides]
//        [--chromium /usr/bin/chromium]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = parseArgs(process.argv.slice(2));
const root = path.resolve(args.root ?? path.join(here, '..', '..'));
const out = path.resolve(args.out ?? path.join(root, 'build', 'slides'));
const chromiumPath = args.chromium ?? '/usr/bin/chromium';
const shotsDir = path.join(out, 'screenshots');

// Flags that keep Chromium off the network and out of first-run machinery.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--hide-scrollbars',
];
const LOCAL_URL = /^(file|data|blob|about):/i;
const WATCHDOG_SECONDS = 420;
const VIEWPORTS = [{ width: 1280, height: 720 }, { width: 1024, height: 768 }];
// Smallest code text, in screen pixels at 1280x720, that reads from the back of a room.
const MIN_CODE_PX = 20;
// Longest slide text a room can read while listening (the references slide is exempt).
const MAX_WORDS = 90;

let passed = 0;
let failed = 0;

function parseArgs(argv) {
  const res = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (argv[i + 1] === undefined) {
      throw new Error(`option ${argv[i]} needs a value`);
    }
    res[key] = argv[i + 1];
  }
  return res;
}

function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`PASS ${name}${detail ? `: ${detail}` : ''}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

// Count slides the way pandoc makes them with --slide-level=2: one per level-1 or level-2
// ATX heading outside code blocks, plus the title slide when the metadata has a title.
// Thematic breaks (---) would also start slides; the deck does not use them, so refuse them
// rather than guess.
function countSourceSlides(files) {
  let headings = 0;
  let title = false;
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    let fence = null;
    let inYaml = false;
    lines.forEach((line, i) => {
      if (fence) {
        if (line.trimStart().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '') {
          fence = null;
        }
        return;
      }
      if (i === 0 && line.trim() === '---') {
        inYaml = true;
        return;
      }
      if (inYaml) {
        if (line.trim() === '---' || line.trim() === '...') {
          inYaml = false;
        } else if (/^title:\s*\S/.test(line)) {
          title = true;
        }
        return;
      }
      const open = line.match(/^\s{0,3}(`{3,}|~{3,})/);
      if (open) {
        fence = open[1];
        return;
      }
      if (/^#{1,2}\s+\S/.test(line)) {
        headings += 1;
      } else if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
        throw new Error(`${path.relative(root, file)}:${i + 1}: a thematic break starts an `
          + 'untitled slide; start slides with "## Title" instead');
      }
    });
  }
  return headings + (title ? 1 : 0);
}

// Decode a PNG with the browser itself and measure it: distinct colours and the share of
// pixels that differ from the most common (background) colour.
async function pixelStats(page, png) {
  const dataUrl = `data:image/png;base64,${png.toString('base64')}`;
  return page.evaluate(async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const counts = new Map();
    for (let i = 0; i < data.length; i += 4) {
      const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const total = data.length / 4;
    const background = Math.max(...counts.values());
    return { colours: counts.size, foreground: (total - background) / total };
  }, dataUrl);
}

// Runs in the page: walk every slide with Reveal.next() and report, per slide, what a
// presenter would see go wrong. Sizes are measured on screen (after reveal.js scales the
// 1280x720 slide to the window), rounded to whole pixels; 1 px of slack for rounding.
//   outside:  an element's box or a line of text drawn outside the slide frame (or window)
//   code:     a code block whose text is taller or wider than its panel (scrollHeight >
//             clientHeight or scrollWidth > clientWidth of the <pre> or its <code>)
//   controls: text, an image or a coloured panel under the navigation arrows or slide number
//   font:     code text smaller than minCodePx on screen
async function walkDeck({ minCodePx, checkFont }) {
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const SLACK = 1;
  const shown = (el) => {
    const cs = getComputedStyle(el);
    return cs.display !== 'none' && cs.visibility !== 'hidden' && Number(cs.opacity) > 0;
  };
  const inNotes = (node) => !!(node.nodeType === 1 ? node : node.parentElement)?.closest('aside.notes');
  const meets = (a, b) => a.left < b.right - SLACK && a.right > b.left + SLACK
    && a.top < b.bottom - SLACK && a.bottom > b.top + SLACK;
  const beyond = (r, lim) => Math.max(lim.left - r.left, r.right - lim.right,
    lim.top - r.top, r.bottom - lim.bottom);
  const painted = (el) => {
    if (el.tagName === 'IMG' || el.tagName === 'svg' || el.tagName === 'VIDEO') return true;
    const cs = getComputedStyle(el);
    const bg = cs.backgroundColor;
    return (bg && bg !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(bg))
      || parseFloat(cs.borderLeftWidth) > 0 || parseFloat(cs.borderTopWidth) > 0;
  };
  const describe = (el) => {
    const text = (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 30);
    return `<${el.tagName.toLowerCase()}>${text ? ` "${text}"` : ''}`;
  };

  Reveal.slide(0, 0);
  await document.fonts.ready;
  await frame();
  let visited = 0;
  const problems = [];
  const info = [];
  for (let guard = 0; guard < 1000; guard += 1) {
    const s = Reveal.getCurrentSlide();
    const title = (s.querySelector('h1, h2')?.textContent ?? s.id ?? '?').trim();
    const n = Reveal.getSlidePastCount() + 1;
    visited += 1;
    const fr = document.querySelector('.reveal .slides').getBoundingClientRect();
    const scale = Reveal.getScale();
    const f = { left: fr.left + (fr.width - Reveal.getConfig().width * scale) / 2 };
    f.right = f.left + Reveal.getConfig().width * scale;
    f.top = fr.top + (fr.height - Reveal.getConfig().height * scale) / 2;
    f.bottom = f.top + Reveal.getConfig().height * scale;
    const lim = { left: Math.max(f.left, 0), top: Math.max(f.top, 0),
      right: Math.min(f.right, innerWidth), bottom: Math.min(f.bottom, innerHeight) };
    const obstacles = [...document.querySelectorAll('.reveal .controls button, .reveal .slide-number')]
      .filter((el) => shown(el)).map((el) => el.getBoundingClientRect())
      .filter((r) => r.width > 0 && r.height > 0);

    const p = { n, title };
    const outside = [];
    const covered = [];
    const els = [s, ...s.querySelectorAll('*')].filter((el) => !inNotes(el) && shown(el));
    for (const el of els) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      const d = beyond(r, lim);
      if (d > SLACK) outside.push([d, describe(el)]);
      if (el !== s && painted(el) && obstacles.some((o) => meets(r, o))) covered.push(describe(el));
    }
    const walker = document.createTreeWalker(s, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      if (!t.textContent.trim() || inNotes(t) || !shown(t.parentElement)) continue;
      range.selectNodeContents(t);
      for (const r of range.getClientRects()) {
        if (r.width === 0 || r.height === 0) continue;
        const d = beyond(r, lim);
        if (d > SLACK) outside.push([d, `text "${t.textContent.trim().slice(0, 30)}"`]);
        if (obstacles.some((o) => meets(r, o))) covered.push(`text "${t.textContent.trim().slice(0, 30)}"`);
      }
    }
    if (outside.length) {
      outside.sort((a, b) => b[0] - a[0]);
      p.outside = `${Math.round(outside[0][0])} px out: ${outside[0][1]}`;
    }
    if (covered.length) p.controls = [...new Set(covered)].slice(0, 2).join('; ');
    const code = [];
    for (const el of s.querySelectorAll('pre, pre code')) {
      const dy = el.scrollHeight - el.clientHeight;
      const dx = el.scrollWidth - el.clientWidth;
      if (dy > SLACK) code.push(`${dy} px too tall`);
      if (dx > SLACK) code.push(`${dx} px too wide`);
    }
    if (code.length) p.code = [...new Set(code)].join(', ');
    if (checkFont) {
      const sizes = [...s.querySelectorAll('pre code')]
        .map((el) => parseFloat(getComputedStyle(el).fontSize) * scale);
      if (sizes.length && Math.min(...sizes) < minCodePx - 0.05) {
        p.font = `code at ${Math.min(...sizes).toFixed(1)} px`;
      }
    }
    if (p.outside || p.controls || p.code || p.font) problems.push(p);

    // What the presenter reads: words outside code and notes, the notes, the slide number
    // as reveal.js prints it, and where the title sits.
    const prose = [];
    const tw = document.createTreeWalker(s, NodeFilter.SHOW_TEXT);
    for (let t = tw.nextNode(); t; t = tw.nextNode()) {
      if (!inNotes(t) && !t.parentElement.closest('pre')) prose.push(t.textContent);
    }
    const h2 = s.querySelector(':scope > h2');
    const notes = s.querySelector('aside.notes');
    info.push({
      n,
      title,
      words: prose.join(' ').split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length,
      references: s.classList.contains('references'),
      divider: s.classList.contains('level1'),
      notes: notes ? notes.textContent.trim() : '',
      number: (document.querySelector('.reveal .slide-number')?.textContent ?? '').replace(/\s+/g, ''),
      titleTop: h2 ? Math.round(h2.getBoundingClientRect().top) : null,
    });
    if (Reveal.isLastSlide()) break;
    Reveal.next();
    await frame();
  }
  return { visited, problems, info };
}

// What a presenter needs, from the walk at 1280x720: short slides, notes everywhere, the
// running time in the first slide's notes, "c/t" slide numbers, titles at one height.
function checkPresenter(label, info, total) {
  if (process.env.SLIDES_TEST_VERBOSE) {
    for (const i of info) {
      console.log(`  ${String(i.n).padStart(2)} ${String(i.words).padStart(3)} words `
        + `${i.notes ? 'notes' : '     '} y=${i.titleTop} ${i.number} ${i.title.replace(/\s+/g, ' ')}`);
    }
  }
  const wordy = info.filter((i) => !i.references && i.words > MAX_WORDS)
    .map((i) => `"${i.title}" (${i.words})`);
  check(`${label}: no slide over ${MAX_WORDS} words (code and notes not counted)`,
    wordy.length === 0, wordy.join(', '));
  const bare = info.filter((i) => !i.divider && i.notes.length < 40).map((i) => `"${i.title}"`);
  check(`${label}: every slide but the section dividers has speaker notes`, bare.length === 0,
    bare.join(', '));
  const minutes = info[0]?.notes.match(/(\d+)\s*minutes/);
  check(`${label}: the first slide's notes give the running time`, !!minutes,
    minutes ? `${minutes[0]}` : `notes: "${info[0]?.notes.slice(0, 60) ?? ''}"`);
  const numbers = info.filter((i) => !/^\d+\s*\/\s*\d+$/.test(i.number) || Number(i.number.split('/')[1]) !== total);
  check(`${label}: slide numbers read "current/total"`, numbers.length === 0,
    numbers.length ? numbers.slice(0, 3).map((i) => `"${i.title}": "${i.number}"`).join(', ')
      : `${info.at(-1)?.number}`);
  const tops = info.filter((i) => !i.divider && i.titleTop !== null && i.n > 1);
  const first = tops[0]?.titleTop;
  const moved = tops.filter((i) => Math.abs(i.titleTop - first) > 2).map((i) => `"${i.title}" (y=${i.titleTop})`);
  check(`${label}: slide titles pinned at one height`, tops.length > 0 && moved.length === 0,
    moved.length ? moved.slice(0, 5).join(', ') : `y=${first} on ${tops.length} slides`);
}

async function testDeck(context, label, htmlPath, expectedSlides, { standalone }) {
  const url = pathToFileURL(htmlPath).href;
  const page = await context.newPage();
  const jsErrors = [];
  const offMachine = [];
  const missing = [];
  const otherFiles = [];
  page.on('pageerror', (err) => jsErrors.push(String(err.message ?? err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') jsErrors.push(`console: ${msg.text()}`);
  });
  page.on('request', (req) => {
    const u = req.url();
    if (!LOCAL_URL.test(u)) offMachine.push(u);
    else if (standalone && u.startsWith('file:') && u.split('#')[0] !== url) otherFiles.push(u);
  });
  page.on('requestfailed', (req) => {
    const u = req.url();
    if (LOCAL_URL.test(u)) missing.push(`${u} (${req.failure()?.errorText})`);
  });

  let loaded = false;
  try {
    await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    await page.waitForFunction(() => window.Reveal && window.Reveal.isReady(), null,
      { timeout: 15000 });
    loaded = true;
  } catch (err) {
    jsErrors.push(`load: ${err.message.split('\n')[0]}`);
  }
  const shown = path.relative(root, htmlPath).startsWith('..') ? htmlPath : path.relative(root, htmlPath);
  if (!check(`${label}: deck loads and reveal.js is ready`, loaded, shown)) {
    await page.close();
    return;
  }

  const total = await page.evaluate(() => Reveal.getTotalSlides());
  check(`${label}: slide count matches the Markdown`, total === expectedSlides,
    `reveal.js ${total}, source ${expectedSlides}`);

  // Walk the deck the way a presenter does (linear navigation: next, next, ...), and look at
  // each slide at 1280x720, then again at 1024x768 (a common projector).
  for (const size of VIEWPORTS) {
    await page.setViewportSize(size);
    const walk = await page.evaluate(walkDeck, { minCodePx: MIN_CODE_PX, checkFont: size.width === 1280 });
    const tag = `${size.width}x${size.height}`;
    check(`${label}: walked every slide with Reveal.next() at ${tag}`, walk.visited === total,
      `${walk.visited} of ${total}`);
    const list = (key) => walk.problems.filter((p) => p[key]).map((p) => `"${p.title}" (${p[key]})`);
    const outside = list('outside');
    check(`${label}: nothing drawn outside the frame at ${tag}`, outside.length === 0,
      outside.join(', '));
    const code = list('code');
    check(`${label}: no code overflows its panel at ${tag}`, code.length === 0, code.join(', '));
    const covered = list('controls');
    check(`${label}: nothing under the navigation controls or slide number at ${tag}`,
      covered.length === 0, covered.join(', '));
    if (size.width === 1280) {
      const small = list('font');
      check(`${label}: code is drawn at ${MIN_CODE_PX} px or more at ${tag}`, small.length === 0,
        small.join(', '));
      checkPresenter(label, walk.info, total);
    }
  }
  await page.setViewportSize(VIEWPORTS[0]);

  const dom = await page.evaluate(() => {
    const imgs = [...document.querySelectorAll('.reveal .slides img')];
    const broken = imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.alt || i.src.slice(0, 60));
    // Highlighting: some token inside a code block is coloured differently from plain code.
    const tokens = [...document.querySelectorAll('pre.sourceCode code span[class]')]
      .filter((sp) => sp.className.length <= 3);
    const plain = (el) => getComputedStyle(el.closest('code')).color;
    const coloured = tokens.filter((sp) => getComputedStyle(sp).color !== plain(sp));
    return {
      images: imgs.length,
      broken,
      codeBlocks: document.querySelectorAll('pre.sourceCode').length,
      labCode: document.querySelectorAll('.lab-code pre').length,
      colouredTokens: coloured.length,
      notes: document.querySelectorAll('aside.notes').length,
      notesPlugin: Reveal.hasPlugin('notes'),
    };
  });
  check(`${label}: every diagram loads`, dom.images >= 4 && dom.broken.length === 0,
    `${dom.images} images${dom.broken.length ? `, broken: ${dom.broken.join(', ')}` : ''}`);
  check(`${label}: code is syntax-highlighted`, dom.codeBlocks > 0 && dom.colouredTokens > 0,
    `${dom.codeBlocks} code blocks (${dom.labCode} from lab files), ${dom.colouredTokens} coloured tokens`);
  check(`${label}: speaker notes present, notes plugin loaded`, dom.notes > 0 && dom.notesPlugin,
    `${dom.notes} slides with notes`);

  // The code font travels with the deck (fonts/ beside ipc.html, embedded in the standalone
  // file): code must not depend on what the presenter's laptop has installed.
  const font = await page.evaluate(async () => {
    await document.fonts.ready;
    const faces = [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'IPC Mono');
    await Promise.all(faces.map((f) => f.load().catch(() => {})));
    return { faces: faces.length, loaded: faces.filter((f) => f.status === 'loaded').length };
  });
  check(`${label}: the bundled code font loads`, font.faces > 0 && font.loaded === font.faces,
    `${font.loaded} of ${font.faces} faces of "IPC Mono" loaded`);

  // Screenshots: the title, a code slide (lab code preferred), a diagram slide.
  fs.mkdirSync(shotsDir, { recursive: true });
  const targets = await page.evaluate(() => {
    const slides = [...document.querySelectorAll('.reveal .slides section')]
      .filter((s) => !s.querySelector('section'));
    const idx = (s) => (s ? Reveal.getIndices(s) : null);
    return {
      title: idx(slides[0]),
      code: idx(slides.find((s) => s.querySelector('.lab-code pre'))
        ?? slides.find((s) => s.querySelector('pre.sourceCode'))),
      diagram: idx(slides.find((s) => s.querySelector('img[alt*="physical region" i]'))
        ?? slides.find((s) => s.querySelector('img'))),
    };
  });
  const stem = path.basename(htmlPath, '.html');
  for (const [kind, where] of Object.entries(targets)) {
    if (!where) {
      check(`${label}: screenshot of a ${kind} slide`, false, 'no such slide');
      continue;
    }
    await page.evaluate(async ({ h, v }) => {
      Reveal.slide(h, v);
      await document.fonts.ready;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    }, where);
    const file = path.join(shotsDir, `${stem}-${kind}.png`);
    const png = await page.screenshot({ path: file });
    const stats = await pixelStats(page, png);
    check(`${label}: screenshot of the ${kind} slide is not blank`,
      stats.colours >= 16 && stats.foreground >= 0.01,
      `${path.relative(root, file)}: ${stats.colours} colours, ${(stats.foreground * 100).toFixed(1)}% non-background`);
  }

  // Speaker view: `s` on a slide with notes opens a window that shows those notes.
  const withNotes = await page.evaluate(() => {
    const s = document.querySelector('.reveal .slides section aside.notes')?.closest('section');
    return s ? Reveal.getIndices(s) : null;
  });
  let speaker = false;
  let speakerDetail = 'no slide with notes';
  if (withNotes) {
    await page.evaluate(({ h, v }) => Reveal.slide(h, v), withNotes);
    try {
      const [popup] = await Promise.all([
        context.waitForEvent('page', { timeout: 10000 }),
        page.keyboard.press('s'),
      ]);
      popup.on('pageerror', (err) => jsErrors.push(`speaker view: ${err.message}`));
      await popup.waitForFunction(() => {
        const n = document.querySelector('.speaker-controls-notes .value');
        return n && n.textContent.trim().length > 20;
      }, null, { timeout: 15000 });
      speaker = true;
      speakerDetail = 'notes shown in the speaker window';
      await popup.close();
    } catch (err) {
      speakerDetail = err.message.split('\n')[0];
    }
  }
  check(`${label}: speaker view opens with "s" and shows the notes`, speaker, speakerDetail);

  check(`${label}: no JavaScript errors`, jsErrors.length === 0, jsErrors.slice(0, 5).join(' | '));
  check(`${label}: no network request`, offMachine.length === 0,
    offMachine.length ? offMachine.slice(0, 5).join(', ') : 'only file:/data: URLs');
  check(`${label}: no missing local file`, missing.length === 0, missing.slice(0, 5).join(', '));
  if (standalone) {
    check(`${label}: self-contained (loads no other file)`, otherFiles.length === 0,
      otherFiles.slice(0, 5).join(', '));
  }
  await page.close();
}

async function main() {
  const mdDir = path.join(root, 'slides', 'md');
  const mdFiles = fs.readdirSync(mdDir).filter((f) => f.endsWith('.md')).sort()
    .map((f) => path.join(mdDir, f));
  const expected = countSourceSlides(mdFiles);
  console.log(`slides: ${mdFiles.length} Markdown files, ${expected} slides expected`);

  const deck = path.join(out, 'ipc.html');
  const standaloneBuilt = path.join(out, 'ipc-standalone.html');
  for (const f of [deck, standaloneBuilt]) {
    if (!fs.existsSync(f)) {
      check(`built ${path.relative(root, f)}`, false, 'missing: run `make slides` first');
    }
  }
  if (!fs.existsSync(chromiumPath)) {
    check('Chromium present', false, `${chromiumPath} not found (common/deps.sh chromium=chromium)`);
  }
  if (failed) finish();

  // The standalone file is copied alone into an empty directory: if it still needed a file
  // beside it, loading it there would show.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-slides-test-'));
  const profile = path.join(tmp, 'profile');
  const lone = path.join(tmp, 'usb-stick', 'ipc-standalone.html');
  fs.mkdirSync(path.dirname(lone), { recursive: true });
  fs.copyFileSync(standaloneBuilt, lone);

  fs.rmSync(shotsDir, { recursive: true, force: true });
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 720 },
      deviceScaleFactor: 1,
    });
    // Nothing may leave the machine: abort whatever is not local, and count it (the
    // 'request' listener in testDeck records it as a failure).
    await context.route(/^(?!file:|data:|blob:|about:)/i, (route) => route.abort());
    await testDeck(context, 'ipc.html', deck, expected, { standalone: false });
    // SLIDES_TEST_QUICK=1 (while editing): the linked deck only.
    if (!process.env.SLIDES_TEST_QUICK) {
      await testDeck(context, 'ipc-standalone.html', lone, expected, { standalone: true });
    }
  } catch (err) {
    check('browser run', false, err.stack?.split('\n').slice(0, 3).join(' ') ?? String(err));
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  finish();
}

const watchdog = setTimeout(() => {
  check('finished in time', false, `still running after ${WATCHDOG_SECONDS} s`);
  finish();
}, WATCHDOG_SECONDS * 1000);
watchdog.unref();

main().catch((err) => {
  check('test harness', false, err.message);
  finish();
});
