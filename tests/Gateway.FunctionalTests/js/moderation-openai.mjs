// Drives the gateway's OpenAI surface (/v1/*) under a blocking moderation policy with the official `openai` npm client
// and prints a JSON report. Usage: node moderation-openai.mjs <gateway-base-url> [scenario...]
//
// What the gateway answers (docs/api.md), and how the client surfaces it:
// - A blocked prompt: HTTP 400 {"error":{"code":"content_filter",...}}, so create() throws OpenAI.BadRequestError with
//   code 'content_filter' (with stream: true too: the check runs before the stream starts).
// - A blocked unary answer: HTTP 200, finish_reason 'content_filter', message.content null, no tool_calls (as Azure
//   OpenAI reports a filtered completion). create() resolves; parse() throws ContentFilterFinishReasonError.
// - A blocked stream: the text released before the cut (maybe none), then one chunk with finish_reason
//   'content_filter' and an empty delta, then [DONE]; the iteration ends normally. The stream helper
//   (chat.completions.stream) resolves finalChatCompletion() with that finish_reason; only with parseable input
//   (a json_schema response_format, strict tools) does it reject, with ContentFilterFinishReasonError.
import OpenAI from 'openai';
import { ContentFilterFinishReasonError } from 'openai/error';
import { MODEL, MODERATION, checkNoMarker, describeError, gatewayUrl, rejection, runScenarios } from './harness.mjs';

const client = new OpenAI({ baseURL: gatewayUrl() + '/v1', apiKey: 'client-key', maxRetries: 0, timeout: 20_000 });
const { PROMPT_MARKER, UNSAFE_ASK, SAFE_OPENING, SAFE_TEXT } = MODERATION;
const blockedPrompt = [{ role: 'user', content: `please ${PROMPT_MARKER} now` }];
const unsafeAsk = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: UNSAFE_ASK }];
const safeAsk = [{ role: 'user', content: 'hello' }];
const jsonSchema = {
  type: 'json_schema',
  json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false } },
};

/** Checks a blocked prompt's error: the typed 400 with code content_filter, and no echo of the prompt. */
function checkPromptBlocked(e, { check, equal }) {
  check(e instanceof OpenAI.BadRequestError, `throws OpenAI.BadRequestError, got ${e?.constructor?.name}`);
  equal(e?.status, 400, 'status');
  equal(e?.code, 'content_filter', 'code');
  equal(e?.type, 'invalid_request_error', 'type');
  equal(e?.error?.message, 'Prompt blocked due to security configurations (categories: S1).', 'error.message');
  checkNoMarker(describeError(e), check, 'the error');
  return describeError(e);
}

/** Iterates a chat or completions stream: its text, finish reasons and chunk count; an error thrown is recorded. */
async function collect(stream, textOf) {
  let text = '';
  let chunks = 0;
  const finishReasons = [];
  const raw = [];
  let threw;
  try {
    for await (const chunk of stream) {
      chunks++;
      raw.push(chunk);
      for (const choice of chunk.choices) {
        text += textOf(choice) ?? '';
        if (choice.finish_reason) finishReasons.push(choice.finish_reason);
      }
    }
  } catch (e) {
    threw = describeError(e);
  }
  return { text, chunks, finishReasons, raw, threw };
}

/** Checks a blocked stream: a prefix of the safe opening, then content_filter as the only finish reason, no error. */
function checkStreamCut(result, { check, equal }) {
  equal(result.threw, undefined, 'the iteration ended without an error');
  check(SAFE_OPENING.startsWith(result.text), `text before the cut is a prefix of the safe opening, got ${JSON.stringify(result.text)}`);
  equal(result.finishReasons.join(','), 'content_filter', 'finish_reason(s)');
  const last = result.raw.at(-1);
  equal(last?.choices?.[0]?.finish_reason, 'content_filter', 'the last chunk carries content_filter');
  checkNoMarker(result.raw, check, 'the chunks');
}

await runScenarios({
  async blockedPrompt(checks) {
    const e = await rejection(client.chat.completions.create({ model: MODEL, messages: blockedPrompt }), checks.check);
    return checkPromptBlocked(e, checks);
  },

  async blockedPromptStream(checks) {
    const e = await rejection(client.chat.completions.create({ model: MODEL, messages: blockedPrompt, stream: true }), checks.check);
    return checkPromptBlocked(e, checks);
  },

  async blockedResponse({ check, equal }) {
    const { data: completion, response } = await client.chat.completions.create({ model: MODEL, messages: unsafeAsk }).withResponse();
    equal(response.status, 200, 'status');
    equal(response.headers.get('x-moderation-response'), 'blocked', 'x-moderation-response');
    const choice = completion.choices[0];
    equal(completion.object, 'chat.completion', 'object');
    equal(choice?.finish_reason, 'content_filter', 'finish_reason');
    equal(choice?.message?.content, null, 'message.content');
    equal(choice?.message?.role, 'assistant', 'message.role');
    equal(choice?.message?.tool_calls, undefined, 'message.tool_calls');
    checkNoMarker(completion, check, 'the completion');
    return { completion, moderation: response.headers.get('x-moderation-response') };
  },

  async blockedCompletion({ check, equal }) {
    const completion = await client.completions.create({ model: MODEL, prompt: UNSAFE_ASK });
    equal(completion.choices[0]?.finish_reason, 'content_filter', 'finish_reason');
    equal(completion.choices[0]?.text, '', 'text');
    checkNoMarker(completion, check, 'the completion');
    return completion;
  },

  async blockedParse({ check }) {
    // parse() checks the finish reason before parsing: the SDK's own error, not a JSON parse error.
    const e = await rejection(client.chat.completions.parse({ model: MODEL, messages: unsafeAsk, response_format: jsonSchema }), check);
    check(e instanceof ContentFilterFinishReasonError, `throws ContentFilterFinishReasonError, got ${e?.constructor?.name}: ${e?.message}`);
    checkNoMarker(describeError(e), check, 'the error');
    return describeError(e);
  },

  async blockedStream(checks) {
    const stream = await client.chat.completions.create({ model: MODEL, messages: unsafeAsk, stream: true });
    const result = await collect(stream, (choice) => choice.delta?.content);
    checkStreamCut(result, checks);
    checks.equal(result.raw.at(-1)?.choices?.[0]?.delta?.content, undefined, 'the last chunk has no content');
    return { text: result.text, chunks: result.chunks, finishReasons: result.finishReasons, last: result.raw.at(-1), threw: result.threw };
  },

  async blockedCompletionStream(checks) {
    const stream = await client.completions.create({ model: MODEL, prompt: UNSAFE_ASK, stream: true });
    const result = await collect(stream, (choice) => choice.text);
    checkStreamCut(result, checks);
    return { text: result.text, chunks: result.chunks, finishReasons: result.finishReasons, last: result.raw.at(-1), threw: result.threw };
  },

  async blockedStreamHelper({ check, equal }) {
    // The helper accumulates the chunks and validates them (ids, roles, finish reasons) as it goes.
    const runner = client.chat.completions.stream({ model: MODEL, messages: unsafeAsk });
    const deltas = [];
    runner.on('content', (delta) => deltas.push(delta));
    let final;
    let threw;
    try {
      final = await runner.finalChatCompletion();
    } catch (e) {
      threw = describeError(e);
    }
    equal(threw, undefined, 'finalChatCompletion() resolves');
    const choice = final?.choices?.[0];
    equal(choice?.finish_reason, 'content_filter', 'finish_reason');
    check(SAFE_OPENING.startsWith(deltas.join('')), `content events are a prefix of the safe opening, got ${JSON.stringify(deltas.join(''))}`);
    const content = choice?.message?.content ?? null;
    check(content === null || SAFE_OPENING.startsWith(content), `message.content is null or the text before the cut, got ${JSON.stringify(content)}`);
    checkNoMarker(final, check, 'the final completion');
    return { finishReason: choice?.finish_reason, content, contentEvents: deltas.length, threw };
  },

  async blockedStreamHelperStructured({ check }) {
    // With parseable input (a json_schema response_format) the helper refuses an unfinished turn with the SDK's
    // documented error rather than parsing the partial JSON.
    const runner = client.chat.completions.stream({ model: MODEL, messages: unsafeAsk, response_format: jsonSchema });
    const e = await rejection(runner.finalChatCompletion(), check);
    check(e instanceof ContentFilterFinishReasonError, `rejects with ContentFilterFinishReasonError, got ${e?.constructor?.name}: ${e?.message}`);
    checkNoMarker(describeError(e), check, 'the error');
    return describeError(e);
  },

  async safeStream({ check, equal }) {
    const stream = await client.chat.completions.create({ model: MODEL, messages: safeAsk, stream: true });
    const result = await collect(stream, (choice) => choice.delta?.content);
    equal(result.threw, undefined, 'no error');
    equal(result.text, SAFE_TEXT, 'concatenated delta.content');
    equal(result.finishReasons.join(','), 'stop', 'finish_reason(s)');
    check(result.chunks > 2, `several chunks, got ${result.chunks}`);
    return { text: result.text, chunks: result.chunks, finishReasons: result.finishReasons };
  },

  async safeStreamHelper({ equal }) {
    const runner = client.chat.completions.stream({ model: MODEL, messages: safeAsk });
    const final = await runner.finalChatCompletion();
    equal(final.choices[0]?.message?.content, SAFE_TEXT, 'finalChatCompletion content');
    equal(final.choices[0]?.finish_reason, 'stop', 'finish_reason');
    return { text: final.choices[0]?.message?.content };
  },
});
