// Token labels (figures/token-display.ts): whitespace markers as glyphs, pieces that are parts of a character shown
// as the source characters they cover. Expected labels are written by hand from the tokenizers' conventions (GPT-2's
// bytes_to_unicode: byte 0x20 is Ġ, 0x0A is Ċ; UTF-8 of 😀 is F0 9F 98 80, of 어 is EC 96 B4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelTokens, pieceLabel, tokenLabel, visibleWhitespace } from '../../../figures/token-display';

test('visibleWhitespace: ␣ for spaces, ⏎ for newlines (\\r\\n once), ⇥ for tabs', () => {
  assert.equal(visibleWhitespace(' a\r\nb\tc\n'), '␣a⏎b⇥c⏎');
});

test('pieceLabel without the source: Ġ/▁ → ␣, Ċ → ⏎; specials and plain pieces unchanged', () => {
  assert.equal(pieceLabel('Ġfox'), '␣fox');
  assert.equal(pieceLabel('ĊĊ'), '⏎⏎');
  assert.equal(pieceLabel('ĉx'), '⇥x');
  assert.equal(pieceLabel('▁Once'), '␣Once');
  assert.equal(pieceLabel('[CLS]'), '[CLS]');
  assert.equal(pieceLabel('<s>'), '<s>');
  assert.equal(pieceLabel('##ing'), '##ing');
  assert.equal(pieceLabel('fox'), 'fox');
});

test('tokenLabel: GPT-2 byte-level pieces, an emoji split in bytes shows the emoji', () => {
  const src = 'Hi fox\n😀';
  // 😀 = F0 9F 98 80: bytes 0xF0 → 'ð', 0x9F → 'Ł' (U+0141), 0x98 → 'ĺ' (U+013A), 0x80 → 'Ģ' (U+0122).
  const tokens = [
    { text: 'Hi', start: 0, end: 2 },
    { text: 'Ġfox', start: 2, end: 6 },
    { text: 'Ċ', start: 6, end: 7 },
    { text: 'ðŁĺ', start: 7, end: 9 },
    { text: 'Ģ', start: 7, end: 9 },
  ];
  assert.deepEqual(
    labelTokens(tokens, src).map((t) => t.label),
    ['Hi', '␣fox', '⏎', '😀', '😀'],
  );
  // The raw piece stays beside the label.
  assert.equal(labelTokens(tokens, src)[1].text, 'Ġfox');
});

test('tokenLabel: sentencepiece ▁ (offsets with or without the space), byte fallback, specials', () => {
  const src = 'Once upon\n';
  assert.equal(tokenLabel({ text: '<s>', start: null, end: null, special: true }, src), '<s>');
  assert.equal(tokenLabel({ text: '▁Once', start: 0, end: 4 }, src), '␣Once');
  assert.equal(tokenLabel({ text: '▁upon', start: 4, end: 9 }, src), '␣upon');
  assert.equal(tokenLabel({ text: '▁upon', start: 5, end: 9 }, src), '␣upon');
  assert.equal(tokenLabel({ text: '<0x0A>', start: 9, end: 10 }, src), '⏎');
});

test('tokenLabel: WordPiece keeps ## and its lower case; decomposed Korean jamo show the syllable they cover', () => {
  const src = 'Hello 어';
  assert.equal(tokenLabel({ text: 'hello', start: 0, end: 5 }, src), 'hello');
  assert.equal(tokenLabel({ text: '##lo', start: 3, end: 5 }, src), '##lo');
  // 어 (U+C5B4) in NFD is ᄋ (U+110B) + ᅥ (U+1165): BERT's pieces are the jamo, each covering the syllable.
  assert.equal(tokenLabel({ text: 'ᄋ', start: 6, end: 7 }, src), '어');
  assert.equal(tokenLabel({ text: '##ᅥ', start: 6, end: 7 }, src), '어');
  assert.equal(tokenLabel({ text: '[UNK]', start: 6, end: 7 }, src), '[UNK]');
  // A piece that spells something else and is no part of a character (a renamed token): the piece itself.
  assert.equal(tokenLabel({ text: '<img src=x>', start: 0, end: 5 }, src), '<img src=x>');
  // Offsets outside the text: the piece alone.
  assert.equal(tokenLabel({ text: 'Ġx', start: 40, end: 42 }, src), '␣x');
});
