// Drives the gateway's OpenAI surface (/v1/*) with the official `openai` npm client and prints a JSON report.
// Usage: node openai-client.mjs <gateway-base-url> [scenario...]   (no scenario: every default one)
import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { EXPECTED_TEXT, EXPECTED_TOTAL_TOKENS, MODEL, describeError, gatewayUrl, rejection, runScenarios } from './harness.mjs';

const client = new OpenAI({ baseURL: gatewayUrl() + '/v1', apiKey: 'client-key', maxRetries: 0, timeout: 20_000 });
const messages = [{ role: 'user', content: 'hello' }];

await runScenarios({
  async chatNonStream({ check, equal }) {
    const completion = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 20 });
    equal(completion.object, 'chat.completion', 'object');
    equal(completion.choices.length, 1, 'choices.length');
    equal(completion.choices[0]?.message?.role, 'assistant', 'message.role');
    equal(completion.choices[0]?.message?.content, EXPECTED_TEXT, 'message.content');
    equal(completion.choices[0]?.finish_reason, 'stop', 'finish_reason');
    equal(completion.usage?.total_tokens, EXPECTED_TOTAL_TOKENS, 'usage.total_tokens');
    check(typeof completion.id === 'string' && completion.id.length > 0, 'id is a non-empty string');
    return { text: completion.choices[0]?.message?.content, usage: completion.usage, model: completion.model, id: completion.id };
  },

  async chatStream({ check, equal }) {
    const stream = await client.chat.completions.create({
      model: MODEL, messages, stream: true, stream_options: { include_usage: true },
    });
    check(stream instanceof Stream, `returns an openai Stream, got ${stream?.constructor?.name}`);
    let text = '';
    let chunks = 0;
    let usage;
    const finishReasons = [];
    for await (const chunk of stream) {
      chunks++;
      equal(chunk.object, 'chat.completion.chunk', `chunk ${chunks} object`);
      for (const choice of chunk.choices) {
        text += choice.delta?.content ?? '';
        if (choice.finish_reason) finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    equal(text, EXPECTED_TEXT, 'concatenated delta.content');
    equal(finishReasons.join(','), 'stop', 'finish_reason(s)');
    equal(usage?.total_tokens, EXPECTED_TOTAL_TOKENS, 'usage.total_tokens of the final chunk');
    return { text, chunks, finishReasons, usage };
  },

  async chatStreamHelper({ equal }) {
    // The SDK's higher-level helper: it accumulates the chunks into a ChatCompletion and checks their shape
    // (ids, choice indexes, finish_reason) as it goes.
    const runner = client.chat.completions.stream({ model: MODEL, messages, stream_options: { include_usage: true } });
    const deltas = [];
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    equal(final.choices[0]?.message?.content, EXPECTED_TEXT, 'finalChatCompletion content');
    equal(final.choices[0]?.finish_reason, 'stop', 'finish_reason');
    equal(deltas.join(''), EXPECTED_TEXT, "concatenated 'content' events");
    equal(await runner.finalContent(), EXPECTED_TEXT, 'finalContent()');
    equal(final.usage?.total_tokens, EXPECTED_TOTAL_TOKENS, 'usage.total_tokens');
    return { text: final.choices[0]?.message?.content, events: deltas.length, usage: final.usage, id: final.id };
  },

  async completionNonStream({ check, equal }) {
    const completion = await client.completions.create({ model: MODEL, prompt: 'Once upon', max_tokens: 20 });
    equal(completion.object, 'text_completion', 'object');
    equal(completion.choices[0]?.text, EXPECTED_TEXT, 'choices[0].text');
    equal(completion.choices[0]?.finish_reason, 'stop', 'finish_reason');
    equal(completion.usage?.total_tokens, EXPECTED_TOTAL_TOKENS, 'usage.total_tokens');
    check(typeof completion.id === 'string' && completion.id.length > 0, 'id is a non-empty string');
    return { text: completion.choices[0]?.text, usage: completion.usage, model: completion.model };
  },

  async completionStream({ check, equal }) {
    const stream = await client.completions.create({
      model: MODEL, prompt: 'Once upon', max_tokens: 20, stream: true, stream_options: { include_usage: true },
    });
    check(stream instanceof Stream, `returns an openai Stream, got ${stream?.constructor?.name}`);
    let text = '';
    let chunks = 0;
    let usage;
    let usageChunkObject;
    const finishReasons = [];
    for await (const chunk of stream) {
      chunks++;
      equal(chunk.object, 'text_completion', `chunk ${chunks} object`);
      if (chunk.choices.length === 0) {
        usageChunkObject = chunk.object;
      }
      for (const choice of chunk.choices) {
        text += choice.text ?? '';
        if (choice.finish_reason) finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    equal(text, EXPECTED_TEXT, 'concatenated choices[0].text');
    equal(finishReasons.join(','), 'stop', 'finish_reason(s)');
    equal(usage?.total_tokens, EXPECTED_TOTAL_TOKENS, 'usage.total_tokens of the final chunk');
    return { text, chunks, finishReasons, usage, usageChunkObject };
  },

  async modelsList({ check, equal }) {
    const ids = [];
    for await (const model of client.models.list()) {
      equal(model.object, 'model', `object of ${model.id}`);
      ids.push(model.id);
    }
    check(ids.includes(MODEL), `list contains ${MODEL}`);
    const one = await client.models.retrieve(MODEL);
    equal(one.id, MODEL, 'models.retrieve id');
    return { ids, retrieved: one };
  },

  async invalidTemperatureIsBadRequest({ check, equal }) {
    const e = await rejection(client.chat.completions.create({ model: MODEL, messages, temperature: 9 }), check);
    check(e instanceof OpenAI.BadRequestError, `throws OpenAI.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    equal(e?.error?.message, "'temperature' must be between 0 and 2, got 9", 'error.message');
    equal(e?.param, 'temperature', 'param');
    equal(e?.type, 'invalid_request_error', 'type');
    equal(e?.message, "400 'temperature' must be between 0 and 2, got 9", 'Error.message');
    return describeError(e);
  },

  async invalidStreamingRequestIsBadRequest({ check, equal }) {
    // Validation happens before the stream starts, so even stream: true gets a plain 400 the client throws.
    const e = await rejection(client.chat.completions.create({ model: MODEL, messages, temperature: 9, stream: true }), check);
    check(e instanceof OpenAI.BadRequestError, `throws OpenAI.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    equal(e?.param, 'temperature', 'param');
    return describeError(e);
  },

  async unknownModelIsNotFound({ check, equal }) {
    const e = await rejection(client.chat.completions.create({ model: 'no-such-model', messages }), check);
    check(e instanceof OpenAI.NotFoundError, `throws OpenAI.NotFoundError, got ${e?.constructor?.name}`);
    equal(e?.status, 404, 'status');
    equal(e?.code, 'model_not_found', 'code');
    equal(e?.param, 'model', 'param');
    equal(e?.error?.message, "The model 'no-such-model' does not exist", 'error.message');
    const retrieve = await rejection(client.models.retrieve('no-such-model'), check);
    check(retrieve instanceof OpenAI.NotFoundError, `models.retrieve throws OpenAI.NotFoundError, got ${retrieve?.constructor?.name}`);
    return { create: describeError(e), retrieve: describeError(retrieve) };
  },
}, {
  async chatStreamCutByUpstream({ check, equal }) {
    // Run on request: the test scripts the upstream to send one token ("partial") and then end its body in the
    // middle of an event. The gateway ends the stream with an error event and no [DONE]; the SDK must throw.
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true });
    let text = '';
    const e = await rejection((async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })(), check);
    equal(text, 'partial', 'text before the cut');
    check(e instanceof OpenAI.APIError, `throws OpenAI.APIError, got ${e?.constructor?.name}`);
    equal(e?.status, undefined, 'status (an error inside a 200 stream has none)');
    equal(e?.code, 'upstream_error', 'code');
    equal(e?.type, 'api_error', 'type');
    return { text, error: describeError(e) };
  },
});
