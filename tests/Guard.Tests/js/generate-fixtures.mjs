// Writes the test tokenizer files, the differential corpus and the oracle token ids into ./generated/.
// Everything comes from the npm packages pinned in package.json (nothing else is downloaded):
//   generated/llama2/tokenizer.json              Hugging Face format, Llama 2 (LlamaGuard-7b) vocabulary
//   generated/llama2-sentencepiece/tokenizer.model  the same vocabulary as a SentencePiece ModelProto
//   generated/llama3/tokenizer.json (+ tokenizer_config.json)  Llama 3 (Llama Guard 2/3) vocabulary
//   generated/corpus.json                        { seed, perKind, kinds[], texts[] }
//   generated/llama2/oracle.json, generated/llama3/oracle.json   ids from the JS tokenizers
// Idempotent: skipped when generated/stamp.json matches the scripts and packages. Usage:
//   node generate-fixtures.mjs [--force] [--per-kind N]
//   node generate-fixtures.mjs --tokenizers-only DIR   only the tokenizer files, into DIR (the gateway's demo model
//                                                      uses the Llama 2 one; see eng/bootstrap.sh)
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus, KINDS } from './corpus.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const onlyArg = args.indexOf('--tokenizers-only');
const tokenizersOnly = onlyArg >= 0;
const out = tokenizersOnly ? path.resolve(args[onlyArg + 1]) : path.join(here, 'generated');
const force = args.includes('--force');
const perKindArg = args.indexOf('--per-kind');
const perKind = perKindArg >= 0 ? Number(args[perKindArg + 1]) : 10000;
const SEED = 20240607;

const pkgVersion = (name) => JSON.parse(fs.readFileSync(path.join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
if (!fs.existsSync(path.join(here, 'node_modules', 'llama-tokenizer-js')) || !fs.existsSync(path.join(here, 'node_modules', 'llama3-tokenizer-js'))) {
  console.error('node_modules is missing in tests/Guard.Tests/js: run ./eng/bootstrap.sh --tests');
  process.exit(3);
}
const hash = createHash('sha256');
for (const f of ['generate-fixtures.mjs', 'corpus.mjs', 'sentencepiece-model.mjs']) hash.update(fs.readFileSync(path.join(here, f)));
hash.update(`llama-tokenizer-js@${pkgVersion('llama-tokenizer-js')} llama3-tokenizer-js@${pkgVersion('llama3-tokenizer-js')} ${perKind}`);
const stamp = hash.digest('hex');
const stampFile = path.join(out, 'stamp.json');
if (!tokenizersOnly && !force && fs.existsSync(stampFile) && JSON.parse(fs.readFileSync(stampFile, 'utf8')).stamp === stamp) {
  console.log('generated/ is up to date');
  process.exit(0);
}

const { default: llama2 } = await import('llama-tokenizer-js');
const { default: llama3 } = await import('llama3-tokenizer-js');
const { encodeSentencePieceModel } = await import('./sentencepiece-model.mjs');

fs.rmSync(out, { recursive: true, force: true });
for (const d of ['llama2', 'llama2-sentencepiece', 'llama3']) fs.mkdirSync(path.join(out, d), { recursive: true });
fs.writeFileSync(path.join(out, '.gitignore'), '*\n');
const writeJson = (rel, value) => fs.writeFileSync(path.join(out, rel), JSON.stringify(value));

// Merges in priority order: the JS tokenizers keep them in a Map whose values are the priorities.
const mergesInOrder = (tok) => [...tok.merges.entries()].sort((a, b) => a[1] - b[1]).map(([key]) => key);
const addedToken = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

// ---- Llama 2 (llama-tokenizer-js): SentencePiece BPE with byte fallback, as in LlamaGuard-7b's tokenizer.json.
{
  const vocab = {};
  llama2.vocabById.forEach((piece, id) => { vocab[piece] = id; });
  const merges = mergesInOrder(llama2);
  writeJson('llama2/tokenizer.json', {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(0, '<unk>'), addedToken(1, '<s>'), addedToken(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, vocab, merges, // "left right" strings: the older merges format
    },
  });
  // SentencePiece scores as in Llama 2's tokenizer.model: a normal piece scores -(id - 259), so lower ids merge
  // first; pieces made only of '▁' score -1e9 (merged last, as the Hugging Face merges list has them at its end).
  const pieces = llama2.vocabById.map((piece, id) => {
    if (id === 0) return { piece, score: 0, type: 2 }; // UNKNOWN
    if (id <= 2) return { piece, score: 0, type: 3 }; // CONTROL
    if (/^<0x[0-9A-F]{2}>$/.test(piece)) return { piece, score: 0, type: 6 }; // BYTE
    if (/^▁{2,}$/.test(piece)) return { piece, score: -1e9, type: 1 };
    return { piece, score: -(id - 259), type: 1 };
  });
  fs.writeFileSync(path.join(out, 'llama2-sentencepiece/tokenizer.model'), encodeSentencePieceModel(pieces, {
    modelType: 2, vocabSize: pieces.length, byteFallback: true, unkId: 0, bosId: 1, eosId: 2, padId: -1,
    normalizerName: 'identity', addDummyPrefix: true, removeExtraWhitespaces: false, escapeWhitespaces: true,
  }));
}

// ---- Llama 3 (llama3-tokenizer-js): byte-level BPE, as in Llama Guard 3's tokenizer.json.
const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
{
  const vocab = {};
  const added = [];
  llama3.vocabById.forEach((piece, id) => {
    if (id < 128000) vocab[piece] = id;
    else added.push(addedToken(id, piece));
  });
  const merges = mergesInOrder(llama3).map((m) => m.split(' ')); // [left, right] pairs: the newer merges format
  writeJson('llama3/tokenizer.json', {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } },
        },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges,
    },
  });
  writeJson('llama3/tokenizer_config.json', {
    add_bos_token: true, bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', model_max_length: 131072,
    tokenizer_class: 'PreTrainedTokenizerFast',
  });
}

if (tokenizersOnly) {
  console.log(`wrote tokenizer files into ${out}`);
  process.exit(0);
}

// ---- Corpus and oracle ids. User text never holds control tokens, so the Llama 3 oracle runs with a
// special-token pattern that matches nothing; `specialIds` records the package's default parsing (real
// special tokens become control ids) for the strings where it differs, to test the segment API.
const corpus = generateCorpus(SEED, perKind);
const texts = corpus.map((c) => c.text);
writeJson('corpus.json', { seed: SEED, perKind, kinds: corpus.map((c) => c.kind), texts });

const NEVER = /(?!)/g;
const t2 = performance.now();
const ids2 = texts.map((t) => llama2.encode(t, false, true));
const t3 = performance.now();
const ids3 = texts.map((t) => llama3.encode(t, { bos: false, eos: false, specialTokenRegex: NEVER }));
const t4 = performance.now();
const specialIds = {};
texts.forEach((t, i) => {
  if (t.includes('<|')) {
    const withSpecials = llama3.encode(t, { bos: false, eos: false });
    if (JSON.stringify(withSpecials) !== JSON.stringify(ids3[i])) specialIds[i] = withSpecials;
  }
});
writeJson('llama2/oracle.json', { package: `llama-tokenizer-js@${pkgVersion('llama-tokenizer-js')}`, call: 'encode(text, false, true)', ids: ids2 });
writeJson('llama3/oracle.json', { package: `llama3-tokenizer-js@${pkgVersion('llama3-tokenizer-js')}`, call: 'encode(text, {bos:false, eos:false, specialTokenRegex: /(?!)/g})', ids: ids3, specialIds });
writeJson('stamp.json', { stamp });
console.log(`generated ${texts.length} strings (${KINDS.length} kinds x ${perKind} + fixed); llama2 ${Math.round(t3 - t2)} ms, llama3 ${Math.round(t4 - t3)} ms`);
