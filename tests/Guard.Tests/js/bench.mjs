// Throughput of the JavaScript tokenizers on the differential corpus (generated/corpus.json), timing only the
// encode loop, with the same calls as the oracle. Prints JSON: { family: { passesMs, cpuMs, strings, chars, tokens } }:
// wall-clock and process CPU milliseconds per pass (CPU time is the steadier measure on a shared machine).
// Usage: node bench.mjs [--passes N] [--families llama2,llama3]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : fallback);
const passes = Number(opt('--passes', '3'));
const families = opt('--families', 'llama2,llama3').split(',');

const { texts } = JSON.parse(fs.readFileSync(path.join(here, 'generated', 'corpus.json'), 'utf8'));
const chars = texts.reduce((n, t) => n + t.length, 0);
const NEVER = /(?!)/g;
const encoders = {
  llama2: async () => { const { default: t } = await import('llama-tokenizer-js'); return (s) => t.encode(s, false, true); },
  llama3: async () => { const { default: t } = await import('llama3-tokenizer-js'); return (s) => t.encode(s, { bos: false, eos: false, specialTokenRegex: NEVER }); },
};

const result = {};
for (const family of families) {
  const encode = await encoders[family]();
  let tokens = 0;
  for (const t of texts) tokens += encode(t).length; // warm-up pass (JIT)
  const passesMs = [];
  const cpuMs = [];
  for (let p = 0; p < passes; p++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    for (let i = 0; i < texts.length; i++) encode(texts[i]);
    const used = process.cpuUsage(cpu);
    passesMs.push(performance.now() - start);
    cpuMs.push((used.user + used.system) / 1000);
  }
  result[family] = { passesMs, cpuMs, strings: texts.length, chars, tokens };
}
console.log(JSON.stringify(result));
