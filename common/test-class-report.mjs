#!/usr/bin/env node
// test-class-report.mjs: opens a class report (index.html of make check SUBMISSIONS=...) in headless Chromium and checks it against grades.csv and grades.json.
//
// Checks: the page and every student's feedback page load from the file system with no
// JavaScript error and no request that leaves the file system; the students table agrees with
// grades.csv cell by cell; each lab's histogram counts exactly the students whose lab was graded
// (from grades.json); each "failed most often" figure is recomputed from grades.json.
// Prints one line per check, then "N passed, N failed"; exit status 0 only when all pass.
//
// Usage: node common/test-class-report.mjs OUT [--root REPO] [--chromium /usr/bin/chromium]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv.splice(i, 2)[1] : dflt; };
const root = path.resolve(opt('--root', path.join(here, '..')));
const chromiumPath = opt('--chromium', '/usr/bin/chromium');
const out = path.resolve(argv[0] ?? path.join(root, 'build', 'submissions'));
// playwright-core is installed (from the lock file) with the slides' tools.
const { chromium } = createRequire(path.join(root, 'slides', 'package.json'))('playwright-core');

let passed = 0, failed = 0;
const check = (ok, what, why = '') => {
  if (ok) { passed++; console.log(`  ok    ${what}`); } else { failed++; console.log(`  FAIL  ${what}${why ? ': ' + why : ''}`); }
};

// A small CSV reader: quoted fields, doubled quotes, commas and newlines inside quotes.
function parseCsv(text) {
  const rows = []; let row = [], field = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') q = false; else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field.replace(/\r$/, '')); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const csv = parseCsv(fs.readFileSync(path.join(out, 'grades.csv'), 'utf8'));
const book = JSON.parse(fs.readFileSync(path.join(out, 'grades.json'), 'utf8'));
const header = csv[0];
const body = csv.slice(1);

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  const errors = [], outside = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (/^(file|data|about|blob):/.test(url)) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(path.join(out, 'index.html')).href);
  check(errors.length === 0, 'the class report loads with no JavaScript or console error', errors.join('; '));

  const rows = await page.$$eval('#students tr[data-student]', (trs) => trs.map((tr) => ({
    name: tr.dataset.student, total: Number(tr.dataset.total), href: tr.querySelector('a').getAttribute('href'),
    labs: Object.fromEntries([...tr.querySelectorAll('td[data-lab]')].map((td) => [td.dataset.lab, Number(td.dataset.score)])),
  })));
  check(rows.length === body.length, `the students table has one row per line of grades.csv (${rows.length})`, `${rows.length} rows, ${body.length} lines`);
  const mismatches = [];
  body.forEach((line, i) => {
    const r = rows[i];
    if (!r || r.name !== line[0]) { mismatches.push(`row ${i + 1}: ${r?.name} vs ${line[0]}`); return; }
    header.forEach((col, j) => {
      if (/^\d\d-/.test(col) && r.labs[col] !== Number(line[j])) mismatches.push(`${line[0]} ${col}: ${r.labs[col]} vs ${line[j]}`);
    });
    if (r.total !== Number(line[header.indexOf('total')])) mismatches.push(`${line[0]} total`);
  });
  check(mismatches.length === 0, 'every score and total in the page equals grades.csv', mismatches.slice(0, 5).join('; '));

  const hists = await page.$$eval('.hist', (ds) => ds.map((d) => ({
    lab: d.dataset.lab, graded: Number(d.dataset.graded),
    bars: [...d.querySelectorAll('rect[data-count]')].reduce((a, r) => a + Number(r.dataset.count), 0),
  })));
  const bad = hists.filter((h) => {
    const graded = book.students.filter((s) => s.labs.find((l) => l.lab === h.lab)?.status === 'graded').length;
    return h.bars !== graded || h.graded !== graded;
  });
  check(hists.length === book.labs.length && bad.length === 0, `each of the ${hists.length} histograms counts exactly the students whose lab was graded`,
    bad.map((h) => h.lab).join(' '));

  const misses = await page.$$eval('.miss[data-test]', (ds) => ds.map((d) => ({
    lab: d.dataset.lab, test: d.dataset.test, failed: Number(d.dataset.failed), attempted: Number(d.dataset.attempted),
  })));
  const wrong = misses.filter((m) => {
    let attempted = 0, nfail = 0;
    for (const s of book.students) {
      const l = s.labs.find((x) => x.lab === m.lab);
      if (!l || l.status !== 'graded') continue;
      const t = l.tests.find((x) => x.name === m.test);
      if (!t || t.status === 'skip' || (t.message || '').includes('is not implemented yet')) continue;
      attempted++;
      if (t.status !== 'pass') nfail++;
    }
    return attempted !== m.attempted || nfail !== m.failed;
  });
  check(wrong.length === 0, `the ${misses.length} "failed most often" figures agree with grades.json`, wrong.map((m) => m.test).join(' '));

  const missing = rows.filter((r) => !fs.existsSync(path.join(out, decodeURIComponent(r.href))));
  check(missing.length === 0, 'every student links to a feedback page that exists', missing.map((r) => r.name).join(', '));
  if (rows.length) {
    const before = errors.length;
    let h1 = '';
    try {
      await page.goto(pathToFileURL(path.join(out, decodeURIComponent(rows[rows.length - 1].href))).href);
      h1 = await page.textContent('h1');
    } catch (e) {
      errors.push(String(e));
    }
    check(errors.length === before && h1.includes(rows[rows.length - 1].name), `a feedback page opens and names its student (${rows[rows.length - 1].name})`);
  }
  check(outside.length === 0, 'no request left the file system', outside.slice(0, 3).join(' '));
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
