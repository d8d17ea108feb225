// Drives the gateway's moderation endpoint (POST /v1/moderations, answered by the guard engine) with the official
// `openai` npm client and prints a JSON report. Usage: node moderations-client.mjs <gateway-base-url> [scenario...]
//
// The C# tests (tests/Gateway.FunctionalTests/Guarding) run the gateway with a ScriptedGuardEngine whose rules map a
// marker word in the input to Llama Guard 1's raw output: HOTWIRE -> "unsafe\nO3" (p 0.87), BRAWL -> "unsafe\nO1,O4"
// (no probability), GIBBERISH -> unparseable prose, anything else -> "safe" (p 0.02). This script checks the response
// shape the SDK returns; the tests check the values against the engine.
import OpenAI from 'openai';
import { describeError, gatewayUrl, rejection, runScenarios } from './harness.mjs';

const client = new OpenAI({ baseURL: gatewayUrl() + '/v1', apiKey: 'client-key', maxRetries: 0, timeout: 20_000 });

/** Llama Guard 1's categories (O1..O6) as the endpoint names them. */
const CATEGORIES = [
  'violence_and_hate', 'sexual_content', 'criminal_planning', 'guns_and_illegal_weapons',
  'regulated_or_controlled_substances', 'self_harm',
];

const TEXT = {
  safe: 'How do I bake sourdough bread?',
  unsafe: 'I am going to HOTWIRE my neighbour\'s car tonight.',
  violent: 'Bring a gun to the BRAWL and hurt them.',
  unparseable: 'GIBBERISH input the model cannot judge.',
};

/** Checks one result's shape: flagged, both category maps over exactly the taxonomy, and the llama_guard object. */
function checkResult(result, at, { check, equal }) {
  check(typeof result?.flagged === 'boolean', `${at}.flagged is a boolean`);
  equal(JSON.stringify(Object.keys(result?.categories ?? {})), JSON.stringify(CATEGORIES), `${at}.categories keys`);
  equal(JSON.stringify(Object.keys(result?.category_scores ?? {})), JSON.stringify(CATEGORIES), `${at}.category_scores keys`);
  for (const name of CATEGORIES) {
    check(typeof result?.categories?.[name] === 'boolean', `${at}.categories.${name} is a boolean`);
    const score = result?.category_scores?.[name];
    check(typeof score === 'number' && score >= 0 && score <= 1, `${at}.category_scores.${name} is in [0, 1]`);
  }
  const lg = result?.llama_guard;
  check(lg && typeof lg === 'object', `${at}.llama_guard is an object`);
  check(['safe', 'unsafe', 'unparseable'].includes(lg?.status), `${at}.llama_guard.status is known, got ${lg?.status}`);
  check(Array.isArray(lg?.categories), `${at}.llama_guard.categories is an array`);
  equal(result?.flagged, lg?.status !== 'safe', `${at}.flagged agrees with llama_guard.status`);
}

/** Checks the response envelope and every result; returns what the C# tests assert again. */
function checkResponse(response, count, checks) {
  checks.check(typeof response?.id === 'string' && response.id.startsWith('modr-'), `id starts with modr-, got ${response?.id}`);
  checks.equal(response?.results?.length, count, 'results.length');
  (response?.results ?? []).forEach((r, i) => checkResult(r, `results[${i}]`, checks));
  return { id: response?.id, model: response?.model, results: response?.results };
}

await runScenarios({
  async singleString(checks) {
    const response = await client.moderations.create({ input: TEXT.unsafe });
    return checkResponse(response, 1, checks);
  },

  async stringArray(checks) {
    const response = await client.moderations.create({ input: [TEXT.safe, TEXT.unsafe, TEXT.violent, TEXT.unparseable] });
    return checkResponse(response, 4, checks);
  },

  async textInputObjects(checks) {
    // The multi-modal input form, text parts only.
    const response = await client.moderations.create({
      model: 'omni-moderation-latest',
      input: [{ type: 'text', text: TEXT.safe }, { type: 'text', text: TEXT.unsafe }],
    });
    return checkResponse(response, 2, checks);
  },

  async emptyInputIsBadRequest({ check, equal }) {
    const e = await rejection(client.moderations.create({ input: '' }), check);
    check(e instanceof OpenAI.BadRequestError, `throws OpenAI.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    equal(e?.param, 'input', 'param');
    return describeError(e);
  },

  async imageInputIsBadRequest({ check, equal }) {
    const e = await rejection(client.moderations.create({
      input: [{ type: 'image_url', image_url: { url: 'https://example.invalid/cat.png' } }],
    }), check);
    check(e instanceof OpenAI.BadRequestError, `throws OpenAI.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    return describeError(e);
  },
}, {
  async engineFails({ check }) {
    // Run on request: the test scripts the engine (or its absence) to fail; the SDK throws a typed 5xx error.
    const e = await rejection(client.moderations.create({ input: TEXT.safe }), check);
    check(e instanceof OpenAI.APIError, `throws an OpenAI.APIError, got ${e?.constructor?.name}`);
    return describeError(e);
  },
});
