// Names and token texts in the status bar and Select Model show as typed: VS Code reads `$(name)` there as an icon.
// The reference is VS Code's own label renderer (renderLabelWithIcons, vs/base/browser/ui/iconLabel/iconLabels.ts,
// as code-server 4.100.3's workbench.js has it): its regex and its loop, which turn each match into an icon element
// unless a backslash escapes it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeIcons } from '../../../extension/icon-text';
import { modelChoices } from '../../../extension/model-choices';

// ThemeIcon.iconNameExpression and iconModifierExpression (vs/base/common/themables.ts).
const labelWithIcons = /(\\)?\$\(([A-Za-z0-9-]+(?:~[A-Za-z]+)?)\)/g;

/** VS Code's renderLabelWithIcons, with an icon element as { icon }. */
function render(text: string): (string | { icon: string })[] {
  const out: (string | { icon: string })[] = [];
  let start = 0;
  for (let m = labelWithIcons.exec(text); m !== null; m = labelWithIcons.exec(text)) {
    if (start < m.index) out.push(text.substring(start, m.index));
    start = m.index + m[0].length;
    out.push(m[1] ? `$(${m[2]})` : { icon: m[2] });
  }
  if (start < text.length) out.push(text.substring(start));
  return out;
}
const shown = (text: string) => {
  const parts = render(text);
  assert.ok(
    parts.every((p) => typeof p === 'string'),
    `no icon in ${JSON.stringify(parts)}`,
  );
  return parts.join('');
};

test('text with $(name) in it renders as typed, never as an icon', () => {
  for (const text of [
    '$(bug) model',
    'a$(x)b$(loading~spin)',
    '\\$(bug)', // a backslash of the user's own stays
    '$$(folder)',
    '$(', // nothing to match
    '$(not an icon)',
    'plain',
  ]) {
    assert.equal(shown(escapeIcons(text)), text, text);
  }
  // Unescaped, the renderer makes icons of them (what the escape prevents).
  assert.deepEqual(render('$(bug) model'), [{ icon: 'bug' }, ' model']);
});

test('Select Model rows show folder names, paths and local model names as typed; the rows own icons stay icons', () => {
  const folder = '/models/$(bug) tiny';
  const list = modelChoices(
    folder,
    ['/m/$(x)'],
    {},
    [],
    [
      {
        source: 'ollama',
        id: 'ollama:$(zap):1b',
        label: '$(zap):1b',
        file: '/h/blobs/$(zap)',
        bytes: 1e9,
        architecture: 'llama',
        quantisation: 'Q4_0',
        supported: true,
      },
    ],
  );
  assert.equal(shown(list[0].label), '$(bug) tiny');
  assert.equal(shown(list[0].detail ?? ''), folder);
  assert.equal(shown(list[1].detail ?? ''), '/m/$(x)');
  const ollama = render(list[2].label);
  assert.deepEqual(ollama[0], { icon: 'server-process' }, 'the row own icon');
  assert.equal(ollama.slice(1).join(''), ' $(zap):1b');
  assert.equal(shown(list[2].detail ?? ''), '/h/blobs/$(zap)');
});
