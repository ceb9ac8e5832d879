// The README as a Markdown preview shows it: rendered by markdown-it (the renderer of VS Code's Markdown preview and of
// vsce) and opened in headless chromium with the repository as its base, so every picture must load and decode to a
// real image, be a format the Marketplace takes (PNG, GIF, WebP — vsce refuses SVG) and lie inside the repository
// (vsce rewrites relative paths against the repository URL). The page is screenshot into test-results for review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import MarkdownIt from 'markdown-it';
import { chromium } from 'playwright-core';
import { chromiumPath, repoRoot, screenshotDir } from '../../helpers/code-server';

test('README: every picture loads in a rendered preview, from the repository, in a Marketplace format', async () => {
  const md = new MarkdownIt({ html: true });
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const body = md.render(readme);
  const sources = [...body.matchAll(/<img[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]);
  // The hero capture and one picture per view (grid, head, matrix, neuron, Explain) and the hover.
  assert.ok(sources.length >= 7, `${sources.length} pictures in the README`);
  for (const src of sources) {
    assert.ok(!/^[a-z]+:/i.test(src), `${src}: a relative path (vsce rewrites it against the repository URL)`);
    assert.match(src, /\.(png|gif|webp)$/i, `${src}: PNG, GIF or WebP (vsce refuses SVG in a README)`);
    const file = resolve(repoRoot, decodeURI(src));
    assert.ok(file.startsWith(repoRoot + sep), `${src} lies inside the repository`);
    assert.ok(statSync(file).size < 512 * 1024, `${src}: ${statSync(file).size} bytes (keep pictures small)`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'al-readme-'));
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'],
  });
  try {
    const page = `<!DOCTYPE html><html><head><meta charset="utf-8"><base href="${pathToFileURL(repoRoot).href}/">
<style>body{max-width:980px;margin:24px auto;font-family:sans-serif}img{max-width:100%}</style></head>
<body>${body}</body></html>`;
    const html = join(dir, 'README.html');
    writeFileSync(html, page);
    const tab = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    await tab.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    const images = await tab.$$eval('img', (els) =>
      els.map((e) => {
        const img = e as HTMLImageElement;
        return { src: img.getAttribute('src'), complete: img.complete, w: img.naturalWidth, h: img.naturalHeight };
      }),
    );
    assert.equal(images.length, sources.length);
    for (const im of images) {
      assert.ok(im.complete && im.w >= 64 && im.h >= 64, `${im.src} decoded to ${im.w} × ${im.h}`);
    }
    mkdirSync(screenshotDir, { recursive: true });
    await tab.screenshot({ path: join(screenshotDir, 'readme-preview.png'), fullPage: false });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
