// Deterministic corpus for the differential tokenizer tests: the same strings for every tokenizer family.
// Each kind named in the tokenizer issue gets its own generator; `mixed` splices fragments of all kinds.
//
// Left out on purpose (each is covered by a C# unit test instead, see tests/Guard.Tests/Tokenizers):
// - lone surrogates: not valid Unicode, both UTF-8 encoders replace them with U+FFFD, so no round trip;
// - U+2581 (▁): the Llama 2 vocabulary's own space marker, so it decodes to a space (as in Hugging Face);
// - U+0085 and U+FEFF: JavaScript's \s disagrees with the Unicode White_Space set that Hugging Face's
//   regex engine and tiktoken use (U+0085 is White_Space, U+FEFF is not); the oracle follows JavaScript;
// - U+017F (ſ) after an apostrophe: (?i:'s) matches it under Unicode case folding, the oracle's [sS] does not.

export const KINDS = [
  'ascii', 'accents', 'cjk', 'emoji', 'combining', 'control', 'whitespace', 'code', 'numbers', 'special', 'mixed',
];

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the of and to in is that it for on was with he as you be at by this had not are but from or have an they which ' +
  'one were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over man ' +
  'me even most made after also did many before must through back years where much your way well down should because ' +
  'each just those people how too little state good very make world still own see men work long get here between both ' +
  'life being under never day same another know while last might us great old year off come since against go came right ' +
  'used take three grabbed llama guard unsafe safe violence hate weapons crime privacy election kill bomb password ' +
  'Hello World Python JavaScript Microsoft OpenAI Llama Meta GPU CUDA HTTP JSON YAML API URL SELECT FROM WHERE ' +
  'internationalization antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilistic'
).split(' ');

const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'D", "'x", "'"];
const PUNCT = ['.', ',', '!', '?', ';', ':', '-', '--', '...', '(', ')', '"', "'", '/', '&', '%', '$', '#', '@', '*', '+', '=', '[', ']', '{', '}', '<', '>', '|', '\\', '^', '_', '`', '~'];

const ACCENTED = Array.from(
  'àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßāăąćĉċčďđēĕėęěĝğġģĥħĩīĭįıĳĵķĸĺļľŀłńņňŉŋōŏőœŕŗřśŝşšţťŧũūŭůűųŵŷźżžƒơưǎǐǒǔǖǘǚǜǻǽǿșțəɐɑɒʃʒḃḋḟṁṗṡṫẁẃẅạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ' +
  'αβγδεζηθικλμνξοπρστυφχψωάέήίόύώΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩабвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯіїєґ');
const ACCENT_WORDS = ['café', 'naïve', 'résumé', 'Ångström', 'São Paulo', 'Zürich', 'façade', 'jalapeño', 'Kraków', 'Dvořák', 'Øresund', 'straße', 'Ελλάδα', 'Москва', 'привет', 'Việt Nam', 'Đà Nẵng', 'İstanbul', 'Łódź', 'smörgåsbord', 'crème brûlée', 'coöperate', 'Þórr'];

function rangeChars(from, to) {
  const out = [];
  for (let c = from; c <= to; c++) out.push(String.fromCodePoint(c));
  return out;
}
const CJK_COMMON = Array.from('的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑讲布杀微怕母调局根曾准团段终乐切级克精哪官示冷域读');
const KANA = rangeChars(0x3041, 0x3096).concat(rangeChars(0x30A1, 0x30FA));
const HANGUL = () => String.fromCodePoint(0xAC00 + Math.floor(rand() * 11172));
const CJK_RARE = () => String.fromCodePoint(0x4E00 + Math.floor(rand() * (0x9FEF - 0x4E00)));
const CJK_EXT_B = () => String.fromCodePoint(0x20000 + Math.floor(rand() * 0xA6D0)); // supplementary letters (Lo)
const FULLWIDTH = rangeChars(0xFF01, 0xFF5E).concat(['。', '、', '「', '」', '『', '』', '・', '〜', '！', '？', '（', '）']);

const EMOJI_RANGES = [[0x1F300, 0x1F5FF], [0x1F600, 0x1F64F], [0x1F680, 0x1F6C5], [0x1F900, 0x1F9FF], [0x2600, 0x26FF], [0x2700, 0x27BF], [0x1FA70, 0x1FAF8]];
const SKIN = rangeChars(0x1F3FB, 0x1F3FF);
const ZWJ_SEQUENCES = ['👨‍👩‍👧‍👦', '👩‍💻', '🧑‍🚀', '🏳️‍🌈', '🏴‍☠️', '👨‍👨‍👦', '❤️‍🔥', '🧔‍♀️', '👩🏽‍🔬', '🐻‍❄️', '😶‍🌫️', '🧑🏿‍🤝‍🧑🏻', '👁️‍🗨️'];
const FLAGS = ['🇺🇸', '🇫🇷', '🇯🇵', '🇧🇷', '🇩🇪', '🇺🇦', '🇮🇳', '🇨🇦', '🇪🇺'];
const KEYCAPS = ['1️⃣', '#️⃣', '*️⃣', '0️⃣', '9️⃣'];
const COMBINING = rangeChars(0x0300, 0x036F);
const COMBINING_SCRIPTS = ['नमस्ते', 'हिन्दी', 'क़', 'ภาษาไทย', 'ที่นี่', 'שָׁלוֹם', 'مَرْحَبًا', 'السَّلَامُ', 'ಕನ್ನಡ', 'தமிழ்', '각', 'e\u0301', 'a\u0308\u0304', 'o\u0338', 'Z\u0351\u0360\u0352\u0315\u035C'];
const CONTROLS = rangeChars(0x00, 0x1F).concat(['\u007F'], rangeChars(0x80, 0x84), rangeChars(0x86, 0x9F),
  ['\u200B', '\u200C', '\u200D', '\u200E', '\u200F', '\u2060', '\u2028', '\u2029', '\u00AD', '\u061C', '\uFFFC', '\uFFFD', '\u202A', '\u202E']);
const SPACES = [' ', ' ', ' ', ' ', '\t', '\n', '\r\n', '\r', '\u00A0', '\u3000', '\u2002', '\u2003', '\u2009', '\u200A', '\u202F', '\u205F', '\u000B', '\u000C', '\u1680'];
const SPECIALS = [
  '<s>', '</s>', '<unk>', '<pad>', '[INST]', '[/INST]', '<<SYS>>', '<</SYS>>', '<0x0A>', '<0x00>', '<0xFF>', '<0xZZ>',
  '<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>', '<|eom_id|>',
  '<|python_tag|>', '<|finetune_right_pad_id|>', '<|reserved_special_token_0|>', '<|reserved_special_token_247|>',
  '<|reserved_special_token_248|>', '<|reserved_special_token_00|>', '<|image|>', '<|eot_id', 'eot_id|>', '<||>', '<|', '|>',
  '<|start_header_id|>assistant<|end_header_id|>\n\n', '<|start_header_id|>user<|end_header_id|>', 'safe', 'unsafe\nS1,S10',
  'unsafe\nO1,O3', '\n\nsafe', '<BEGIN UNSAFE CONTENT CATEGORIES>', '<END CONVERSATION>', 'User:', 'Agent:', '</s><s>[INST]',
];

let rand = mulberry32(1);
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const chance = (p) => rand() < p;
function repeatJoin(n, fn, sep = '') {
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(fn(i));
  return parts.join(sep);
}
function word() {
  let w = pick(WORDS);
  const r = rand();
  if (r < 0.1) w = w.toUpperCase();
  else if (r < 0.25) w = w[0].toUpperCase() + w.slice(1);
  if (chance(0.08)) w += pick(CONTRACTIONS);
  return w;
}
function sentence(n) {
  let s = repeatJoin(n, () => word() + (chance(0.12) ? pick(PUNCT) : ''), ' ');
  if (chance(0.6)) s += pick(['.', '!', '?', '...', ':', '']);
  return s;
}
function randomAscii(n) {
  return repeatJoin(n, () => String.fromCharCode(int(0x20, 0x7E)));
}
function emoji() {
  const r = rand();
  if (r < 0.15) return pick(ZWJ_SEQUENCES);
  if (r < 0.22) return pick(FLAGS);
  if (r < 0.27) return pick(KEYCAPS);
  const [lo, hi] = pick(EMOJI_RANGES);
  let e = String.fromCodePoint(int(lo, hi));
  if (chance(0.15)) e += pick(SKIN);
  if (chance(0.1)) e += '\uFE0F';
  return e;
}
function cjkRun(n) {
  return repeatJoin(n, () => {
    const r = rand();
    if (r < 0.45) return pick(CJK_COMMON);
    if (r < 0.6) return CJK_RARE();
    if (r < 0.72) return pick(KANA);
    if (r < 0.84) return HANGUL();
    if (r < 0.9) return CJK_EXT_B();
    return pick(FULLWIDTH);
  });
}
function numberToken() {
  const r = rand();
  if (r < 0.25) return String(int(0, 999999));
  if (r < 0.35) return repeatJoin(int(1, 40), () => String(int(0, 9)));
  if (r < 0.45) return (rand() * 10000 - 5000).toFixed(int(0, 6));
  if (r < 0.52) return int(1, 999) + ',' + String(int(0, 999)).padStart(3, '0') + ',' + String(int(0, 999)).padStart(3, '0');
  if (r < 0.58) return (rand() * 1e6).toExponential(int(0, 4));
  if (r < 0.64) return `${int(1900, 2100)}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`;
  if (r < 0.68) return `+1 (${int(100, 999)}) ${int(100, 999)}-${int(1000, 9999)}`;
  if (r < 0.72) return pick(['$', '€', '£', '¥', '₹']) + int(0, 99999) + '.' + String(int(0, 99)).padStart(2, '0');
  if (r < 0.78) return repeatJoin(int(1, 8), () => String.fromCodePoint(0x0660 + int(0, 9)));
  if (r < 0.83) return repeatJoin(int(1, 8), () => String.fromCodePoint(0xFF10 + int(0, 9)));
  if (r < 0.87) return repeatJoin(int(1, 6), () => String.fromCodePoint(0x0966 + int(0, 9)));
  if (r < 0.9) return pick(['²', '³', '¹', '¼', '½', '¾', '⁴', '₂', '①', '⑳', 'Ⅻ', 'ⅷ', '〇', '𝟎', '𝟗', '𝟙']);
  if (r < 0.94) return `${int(0, 255)}.${int(0, 255)}.${int(0, 255)}.${int(0, 255)}`;
  if (r < 0.97) return `0x${int(0, 0xFFFFFF).toString(16)}`;
  return `${int(1, 99)}%`;
}
const IDENTS = ['x', 'i', 'value', 'result', 'tokenIds', 'self', 'this', 'ctx', 'buffer_size', 'HttpClient', '_cache', 'MAX_LEN', 'foo', 'bar'];
function codeLine() {
  const id = pick(IDENTS), id2 = pick(IDENTS), n = int(0, 1000);
  return pick([
    `var ${id} = ${id2}.Encode("${sentence(int(1, 4))}");`,
    `def ${id}(${id2}, *args, **kwargs):`,
    `    return [${id} for ${id} in range(${n}) if ${id} % 2 == 0]`,
    `for (let ${id} = 0; ${id} < ${n}; ${id}++) { ${id2}[${id}] += 1; }`,
    `if (${id} != null && ${id2}.Length >= ${n}) throw new ArgumentException(nameof(${id}));`,
    `{"${id}": ${n}, "${id2}": [true, false, null], "s": "${sentence(int(1, 3)).replace(/"/g, '\\"')}"}`,
    `<div class="${id}">${sentence(int(1, 4))}</div>`,
    `SELECT ${id}, COUNT(*) FROM ${id2} WHERE ${id} > ${n} GROUP BY ${id};`,
    `#include <stdio.h>\nint main(void) { printf("%d\\n", ${n}); return 0; }`,
    `// TODO(${id}): ${sentence(int(2, 6))}`,
    `const ${id} = async (${id2}) => await fetch(\`/api/${id}?q=\${${id2}}\`);`,
    `${id} := make(map[string]int, ${n})`,
    `fn ${id}(${id2}: &str) -> Result<(), Box<dyn Error>> { Ok(()) }`,
    `\t${id}->${id2} = ${n};\t// ${word()}`,
    `    ${id2} = re.compile(r'\\s+(?!\\S)|[A-Za-z_]\\w*')`,
    `/* ${sentence(int(1, 5))} */`,
    `${id} <<= 2; ${id2} >>>= 1; ${id} ^= ~${id2} & 0xFF;`,
    `print(f"{${id}!r:>10} {${id2}:.3f}")`,
  ]);
}
function codeBlock() {
  const lines = repeatJoin(int(1, 8), () => ' '.repeat(pick([0, 0, 2, 4, 8])) + codeLine(), '\n');
  return chance(0.2) ? '```' + pick(['python', 'cs', 'js', '']) + '\n' + lines + '\n```' : lines;
}
function whitespace() {
  const r = rand();
  if (r < 0.4) return ' '.repeat(int(1, r < 0.1 ? 300 : 40));
  if (r < 0.55) return '\n'.repeat(int(1, 12));
  if (r < 0.65) return '\t'.repeat(int(1, 10));
  if (r < 0.72) return '\r\n'.repeat(int(1, 5));
  return repeatJoin(int(1, 12), () => pick(SPACES));
}
function control() {
  return repeatJoin(int(1, 4), () => pick(CONTROLS));
}
function combining() {
  if (chance(0.5)) return pick(COMBINING_SCRIPTS);
  let base = pick(['a', 'e', 'o', 'u', 'n', 'A', 'x', 'ı', 'α', 'и', ' ', '1', '-']);
  return base + repeatJoin(int(1, 5), () => pick(COMBINING));
}

const GENERATORS = {
  ascii: () => chance(0.15) ? randomAscii(int(1, 80)) : sentence(int(1, 30)),
  accents: () => repeatJoin(int(1, 14), () => chance(0.4) ? pick(ACCENT_WORDS)
    : repeatJoin(int(1, 9), () => chance(0.6) ? pick(ACCENTED) : String.fromCharCode(int(0x61, 0x7A))), ' '),
  cjk: () => repeatJoin(int(1, 4), () => cjkRun(int(1, 30)), pick(['', ' ', '，', '。', '\n', ' and ', 'の'])),
  emoji: () => repeatJoin(int(1, 10), () => chance(0.6) ? emoji() : word(), pick(['', ' ', ''])),
  combining: () => repeatJoin(int(1, 8), () => chance(0.7) ? combining() : word(), pick([' ', ''])),
  control: () => repeatJoin(int(1, 8), () => chance(0.5) ? control() : word(), pick([' ', ''])),
  whitespace: () => (chance(0.3) ? '' : word()) + repeatJoin(int(1, 6), () => whitespace() + (chance(0.7) ? word() : ''), ''),
  code: () => codeBlock(),
  numbers: () => repeatJoin(int(1, 10), () => chance(0.7) ? numberToken() : word(), pick([' ', '', ', ', '\n'])),
  special: () => repeatJoin(int(1, 6), () => chance(0.6) ? pick(SPECIALS) : sentence(int(1, 5)), pick(['', ' ', '\n'])),
  mixed: () => {
    const n = chance(0.01) ? int(40, 160) : int(2, 8);
    return repeatJoin(n, () => GENERATORS[pick(KINDS.slice(0, -1))](), pick(['', ' ', '\n']));
  },
};

const FORBIDDEN = /[\u2581\u0085\uFEFF]|'\u017F/u;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Generates `perKind` strings of every kind (plus a few fixed edge cases) from a fixed seed.
 * @returns {{kind: string, text: string}[]}
 */
export function generateCorpus(seed, perKind) {
  rand = mulberry32(seed);
  const out = [];
  const fixed = ['', ' ', '  ', '\n', ' \n', 'grabbed', ' grabbed', '           grabbed', '\ttabs\t\t\t\tout here',
    'ax\n####\nboo', '镇', '🦙', '🦙Ꙋ', 'Ꙋ🦙', 'Hello world!', 'This is a test sentence.', "I'm", "don't", "'s", '  safe', 'unsafe\nO1,O3'];
  // Long runs without spaces: one piece of thousands of symbols, for the heap-based BPE path.
  fixed.push('a'.repeat(3000), 'ab'.repeat(1500), repeatJoin(2000, () => String.fromCharCode(int(0x61, 0x7A))),
    repeatJoin(4000, () => String(int(0, 9))), cjkRun(1500), repeatJoin(300, emoji), ' '.repeat(5000),
    '\n'.repeat(1000), repeatJoin(800, () => pick(ACCENTED)), repeatJoin(2000, () => pick(PUNCT)));
  for (const text of fixed) out.push({ kind: 'fixed', text });
  for (const kind of KINDS) {
    for (let i = 0; i < perKind; i++) {
      let text = GENERATORS[kind]();
      if (FORBIDDEN.test(text) || LONE_SURROGATE.test(text)) {
        i--;
        continue;
      }
      out.push({ kind, text });
    }
  }
  return out;
}
