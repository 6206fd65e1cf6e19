// One streamed chat completion through the OpenAI Node SDK, read two ways: the
// raw chunks folded as a client does, and the SDK's own stream helper
// (finalChatCompletion), which assembles tool_calls itself.
//
//     node stream_tool_call.cjs DEPS_DIR < request.json > result.json
//
// DEPS_DIR holds node_modules/openai (npm install of tests/node/package.json);
// stdin: {"base_url": ..., "request": {...chat completion body, without stream}}.
const path = require("path");
const { createRequire } = require("module");

async function main() {
  const load = createRequire(path.join(process.argv[2], "package.json"));
  const sdk = load("openai");
  const OpenAI = sdk.OpenAI || sdk.default || sdk;
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const client = new OpenAI({ baseURL: input.base_url, apiKey: "unused", maxRetries: 0, timeout: 300000 });

  // 1. Raw chunks.
  let content = "", finish = null, chunks = 0;
  const calls = new Map();
  const raw = await client.chat.completions.create({ ...input.request, stream: true });
  for await (const chunk of raw) {
    chunks += 1;
    for (const choice of chunk.choices || []) {
      const delta = choice.delta || {};
      if (delta.content) content += delta.content;
      for (const tc of delta.tool_calls || []) {
        const entry = calls.get(tc.index) || { id: null, name: "", arguments: "" };
        if (tc.id) entry.id = tc.id;
        if (tc.function && tc.function.name) entry.name += tc.function.name;
        if (tc.function && tc.function.arguments) entry.arguments += tc.function.arguments;
        calls.set(tc.index, entry);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  const ordered = [...calls.keys()].sort((a, b) => a - b).map((k) => calls.get(k));

  // 2. The SDK's stream helper.
  const helper = client.chat.completions.stream({ ...input.request, stream: true });
  const final = await helper.finalChatCompletion();
  const message = final.choices[0].message;

  process.stdout.write(JSON.stringify({
    chunks,
    raw: { content: content || null, calls: ordered.map((c) => [c.name, c.arguments]),
           ids: ordered.map((c) => c.id), finish_reason: finish },
    helper: { content: message.content || null,
              calls: (message.tool_calls || []).map((c) => [c.function.name, c.function.arguments]),
              ids: (message.tool_calls || []).map((c) => c.id),
              finish_reason: final.choices[0].finish_reason },
  }));
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(1);
});
