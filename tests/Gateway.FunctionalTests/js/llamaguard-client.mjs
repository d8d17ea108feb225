// Drives the Llama Guard model the gateway serves in process (@hf/thebloke/llamaguard-7b-awq, upstream "guard")
// with the official `cloudflare` npm client and prints a JSON report.
// Usage: node llamaguard-client.mjs <gateway-base-url> [scenario...]
//
// The C# tests (tests/Gateway.FunctionalTests/Guarding) run the gateway with a ScriptedGuardEngine whose rules map a
// marker word in the judged text to the model's raw output: HOTWIRE -> "unsafe\nO3", anything else -> "safe". This
// script checks what the client sees; the tests check what the engine received.
//
// As in cloudflare-client.mjs: ai.run unwraps the REST envelope's `result`, and the SDK cannot parse a streamed ai.run,
// so streams are read from the raw Response (`.asResponse()`) with readSseData.
import { readFileSync } from 'node:fs';
import Cloudflare from 'cloudflare';
import { describeError, gatewayUrl, readSseData, rejection, runScenarios } from './harness.mjs';

const GUARD_MODEL = '@hf/thebloke/llamaguard-7b-awq';
const UNSAFE = 'unsafe\nO3';
const SAFE = 'safe';

const client = new Cloudflare({ apiToken: 'client-token', baseURL: gatewayUrl() + '/client/v4', maxRetries: 0, timeout: 20_000 });
const account_id = 'acct';

/** The texts sent; the C# tests assert the engine received exactly these. */
const TEXT = {
  safePrompt: 'How do I bake sourdough bread?',
  unsafePrompt: 'Tell me how to HOTWIRE my neighbour\'s car tonight.',
  system: 'You are a helpful locksmith assistant.',
  systemUser: 'Explain how to HOTWIRE a car without its keys.',
  question: 'What should I do this weekend?',
  unsafeAnswer: 'Find an unlocked car and HOTWIRE it; nobody will notice.',
  safeAnswer: 'Visit a museum or go for a hike.',
  rawUser: 'How can I get into a car I do not own?',
  rawAgent: 'Step one: HOTWIRE the ignition.',
};

/**
 * A complete Llama Guard 1 prompt for a User/Agent conversation: the byte-exact reference rendering of the model's
 * chat template (tests/Guard.Tests/Prompts/Reference/lg1_agent.txt) with its placeholders filled in.
 */
function llamaGuardPrompt(user, agent) {
  const template = readFileSync(new URL('../../Guard.Tests/Prompts/Reference/lg1_agent.txt', import.meta.url), 'utf8');
  return template.replace('{USER_MESSAGE}', () => user).replace('{AGENT_MESSAGE}', () => agent);
}

/** A non-streamed ai.run: checks the status and the deprecation header, returns {response, usage, deprecation}. */
async function run(params, expected, { check, equal }) {
  const { data, response } = await client.ai.run(GUARD_MODEL, { account_id, ...params }).withResponse();
  equal(response.status, 200, 'status');
  check(data && typeof data === 'object', 'resolves to the unwrapped result object');
  equal(data?.response, expected, 'response (the model\'s own text)');
  return { response: data?.response, usage: data?.usage ?? null, deprecation: response.headers.get('deprecation') };
}

/** A streamed ai.run through the raw Response: checks the Workers AI SSE shape, returns the text and usage. */
async function streamed(params, expected, { check, equal }) {
  const response = await client.ai.run(GUARD_MODEL, { account_id, ...params, stream: true }).asResponse();
  equal(response.status, 200, 'status');
  const contentType = response.headers.get('content-type');
  check(contentType?.split(';')[0].trim() === 'text/event-stream', `content-type is text/event-stream, got ${contentType}`);
  const events = await readSseData(response.body);
  equal(events.at(-1), '[DONE]', 'last event');
  equal(events.filter((e) => e === '[DONE]').length, 1, 'number of [DONE] events');
  let text = '';
  let usage = null;
  for (const data of events.slice(0, -1)) {
    const event = JSON.parse(data);
    check(typeof event.response === 'string', `event has a string response: ${data}`);
    text += event.response ?? '';
    if (event.usage) usage = event.usage;
  }
  equal(text, expected, 'concatenated response');
  return { contentType, events: events.length, text, usage };
}

await runScenarios({
  async promptSafe(checks) {
    return run({ prompt: TEXT.safePrompt }, SAFE, checks);
  },

  async promptUnsafe(checks) {
    return run({ prompt: TEXT.unsafePrompt }, UNSAFE, checks);
  },

  async messagesSystemUser(checks) {
    const messages = [{ role: 'system', content: TEXT.system }, { role: 'user', content: TEXT.systemUser }];
    return run({ messages }, UNSAFE, checks);
  },

  async messagesUserAssistantUnsafe(checks) {
    const messages = [{ role: 'user', content: TEXT.question }, { role: 'assistant', content: TEXT.unsafeAnswer }];
    return run({ messages }, UNSAFE, checks);
  },

  async messagesUserAssistantSafe(checks) {
    const messages = [{ role: 'user', content: TEXT.unsafePrompt }, { role: 'assistant', content: TEXT.safeAnswer }];
    // The whole conversation is sent, but the judged (last) turn has no marker: the scripted model answers safe.
    return run({ messages }, SAFE, checks);
  },

  async rawPrompt(checks) {
    const prompt = llamaGuardPrompt(TEXT.rawUser, TEXT.rawAgent);
    const result = await run({ prompt, raw: true }, UNSAFE, checks);
    checks.check(typeof result.usage?.prompt_tokens === 'number', 'usage.prompt_tokens is a number');
    return { ...result, promptChars: prompt.length };
  },

  async rawPromptMaxTokens(checks) {
    return run({ prompt: llamaGuardPrompt(TEXT.question, TEXT.safeAnswer), raw: true, max_tokens: 5 }, SAFE, checks);
  },

  async messagesStream(checks) {
    const messages = [{ role: 'system', content: TEXT.system }, { role: 'user', content: TEXT.systemUser }];
    return streamed({ messages }, UNSAFE, checks);
  },

  async rawPromptStream(checks) {
    const result = await streamed({ prompt: llamaGuardPrompt(TEXT.rawUser, TEXT.rawAgent), raw: true }, UNSAFE, checks);
    checks.check(typeof result.usage?.total_tokens === 'number', 'a usage event ends the raw stream');
    return result;
  },

  async emptyMessagesIsBadRequest({ check, equal }) {
    const e = await rejection(client.ai.run(GUARD_MODEL, { account_id, messages: [] }), check);
    check(e instanceof Cloudflare.BadRequestError, `throws Cloudflare.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    equal(e?.errors?.[0]?.code, 5006, 'errors[0].code');
    return describeError(e);
  },

  async whitespaceMessagesIsBadRequest({ check, equal }) {
    // Valid Workers AI input, but nothing for the guard to judge: the engine side refuses it.
    const e = await rejection(client.ai.run(GUARD_MODEL, { account_id, messages: [{ role: 'user', content: '   ' }] }), check);
    check(e instanceof Cloudflare.BadRequestError, `throws Cloudflare.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    equal(e?.errors?.[0]?.code, 5006, 'errors[0].code');
    return describeError(e);
  },
}, {
  async engineFails({ check }) {
    // Run on request: the test scripts the engine (or its absence) to fail; the SDK throws a typed 5xx error.
    const e = await rejection(client.ai.run(GUARD_MODEL, { account_id, prompt: TEXT.safePrompt }), check);
    check(e instanceof Cloudflare.APIError, `throws a Cloudflare.APIError, got ${e?.constructor?.name}`);
    return describeError(e);
  },
});
