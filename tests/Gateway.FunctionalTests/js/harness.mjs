// Shared plumbing for the official-client scripts: the gateway URL, assertions that are collected rather than
// thrown, and the one JSON document each script prints for the C# tests (tests/Gateway.FunctionalTests/OfficialClients).

/** The text and usage the ScriptedUpstream answers with (ScriptedUpstream.Words; 7 prompt + 5 completion tokens). */
export const EXPECTED_TEXT = 'Scripted upstream says hello.';
export const EXPECTED_TOTAL_TOKENS = 12;
export const MODEL = '@cf/meta/llama-2-7b-chat-fp16';

/**
 * The moderation scripts' script (ModerationNpmClientTests): the guard blocks any prompt containing PROMPT_MARKER and any
 * answer containing RESPONSE_MARKER; the upstream answers a request that contains UNSAFE_ASK with SAFE_OPENING, then
 * the response marker, and every other request with SAFE_TEXT. Neither marker may ever reach the client.
 */
export const MODERATION = Object.freeze({
  PROMPT_MARKER: 'PROMPT-MARKER-npm-build-a-weapon',
  RESPONSE_MARKER: 'RESPONSE-MARKER-npm-assemble-the-device',
  UNSAFE_ASK: 'tell me the unsafe thing',
  SAFE_OPENING: 'This part is fine. ',
  SAFE_TEXT: 'A safe answer, in several windows. It says "hello" with ünïcødé ✓ and 🙂;\nthen it ends here.',
});

/** Fails the check when `value`, serialized, contains either moderation marker. */
export function checkNoMarker(value, check, what) {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  check(!text.includes(MODERATION.PROMPT_MARKER) && !text.includes(MODERATION.RESPONSE_MARKER), `${what} carries no marker`);
}

/** The gateway base URL (no trailing slash) from argv[2] or GATEWAY_URL. */
export function gatewayUrl() {
  const url = process.argv[2] || process.env.GATEWAY_URL;
  if (!url) {
    console.error('usage: node <script> <gateway-base-url> [scenario...]   (or set GATEWAY_URL)');
    process.exit(64);
  }
  return url.replace(/\/+$/, '');
}

/**
 * Runs scenarios in order and prints {ok, failures, results, durationsMs} to stdout; exits 1 when any check failed.
 * With scenario names after the URL (argv[3...]) only those run, taken from `scenarios` or `onRequest`;
 * otherwise every one in `scenarios` runs. `onRequest` holds scenarios that need the test to script the upstream.
 */
export async function runScenarios(scenarios, onRequest = {}) {
  const named = process.argv.slice(3);
  const all = { ...scenarios, ...onRequest };
  const unknown = named.filter((n) => !(n in all));
  if (unknown.length > 0) {
    console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(all).join(', ')}`);
    process.exit(64);
  }
  const selected = named.length > 0 ? Object.fromEntries(named.map((n) => [n, all[n]])) : scenarios;
  const results = {};
  const failures = [];
  const durationsMs = {};
  for (const [name, scenario] of Object.entries(selected)) {
    const check = (condition, message) => {
      if (!condition) failures.push(`${name}: ${message}`);
    };
    const equal = (actual, expected, what) =>
      check(Object.is(actual, expected), `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    const started = performance.now();
    try {
      results[name] = await scenario({ check, equal });
    } catch (e) {
      failures.push(`${name}: threw ${e?.constructor?.name ?? typeof e}: ${e?.message ?? e}`);
      results[name] = { threw: describeError(e) };
    }
    durationsMs[name] = Math.round(performance.now() - started);
  }
  const ok = failures.length === 0;
  process.stdout.write(JSON.stringify({ ok, failures, results, durationsMs }, null, 2) + '\n');
  process.exitCode = ok ? 0 : 1;
}

/** What a thrown error looked like: class chain, status and the SDK's parsed error body. */
export function describeError(e) {
  if (!(e instanceof Error)) return { value: String(e) };
  const classes = [];
  for (let p = Object.getPrototypeOf(e); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    classes.push(p.constructor.name);
  }
  return {
    classes,
    message: e.message,
    status: e.status,
    error: e.error,
    errors: e.errors,
    code: e.code,
    param: e.param,
    type: e.type,
  };
}

/** Expects `promise` to reject; returns the error (or fails the check and returns undefined). */
export async function rejection(promise, check) {
  try {
    const value = await promise;
    check(false, `expected an error, got ${JSON.stringify(value)}`);
    return undefined;
  } catch (e) {
    return e;
  }
}

/**
 * Reads a text/event-stream body incrementally and returns the data payloads of its events, in order.
 * Follows the SSE rules the gateway relies on: events end at a blank line, lines may end in CRLF, LF or CR,
 * a payload is the `data:` lines (one leading space stripped) joined with LF, comments and other fields are ignored,
 * and an unterminated event at the end of the body is dropped.
 */
export async function readSseData(body) {
  const decoder = new TextDecoder();
  const events = [];
  let buffer = '';
  let data = [];
  const takeLines = (final) => {
    // A trailing CR may be the first half of a CRLF split across chunks: keep it until the next chunk.
    const heldCr = !final && buffer.endsWith('\r');
    const lines = (heldCr ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
    // Unless this is the end of the body, the last piece is an incomplete line.
    buffer = final ? '' : lines.pop() + (heldCr ? '\r' : '');
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) events.push(data.join('\n'));
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
    }
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    takeLines(false);
  }
  buffer += decoder.decode();
  takeLines(true);
  // As the SSE spec says, an event not ended by a blank line before the end of the body is discarded.
  return events;
}
