// The command ids the extension registers (extension/commands/ids.ts) against package.json, the manifest VS Code
// reads: every contributed command has a module that registers it and every registered command is contributed (the
// test-only ones are not), every command module registers an id of that list, and menus and key bindings name
// only contributed commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { COMMANDS, TEST_COMMANDS } from '../../../../extension/commands/ids';

const root = path.resolve(import.meta.dirname, '../../../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  contributes: {
    commands: { command: string }[];
    menus: Record<string, { command: string }[]>;
    keybindings?: { command: string }[];
  };
};
const contributed = manifest.contributes.commands.map((c) => c.command).sort();

test('the contributed commands are exactly COMMANDS; test commands are not contributed', () => {
  assert.deepEqual(Object.values(COMMANDS).sort(), contributed);
  for (const id of Object.values(TEST_COMMANDS)) assert.ok(!contributed.includes(id), id);
});

test('menus and key bindings name contributed commands only', () => {
  const named = [...Object.values(manifest.contributes.menus).flat(), ...(manifest.contributes.keybindings ?? [])].map(
    (m) => m.command,
  );
  assert.ok(named.length > 0);
  for (const id of named) assert.ok(contributed.includes(id), `${id} is not a contributed command`);
});

test('each command module registers one id of COMMANDS or TEST_COMMANDS, and every id has its module', () => {
  const dir = path.join(root, 'extension/commands');
  const registered = new Set<string>();
  const keys = { ...COMMANDS, ...TEST_COMMANDS } as Record<string, string>;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'ids.ts')) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    const ids = [...text.matchAll(/registerCommand\(\s*(?:TEST_)?COMMANDS\.(\w+)/g)].map((m) => m[1]);
    assert.equal(ids.length, 1, `${file} registers ${ids.length} commands`);
    assert.ok(ids[0] in keys, `${file}: ${ids[0]}`);
    registered.add(keys[ids[0]]);
  }
  assert.deepEqual([...registered].sort(), Object.values(keys).sort());
});
