// The Headroom TypeScript SDK (headroom-ai 0.37, withHeadroom with openai@4) against `headroom proxy`:
// the SDK calls the proxy's POST /v1/compress, then the OpenAI client sends the compressed messages
// to the upstream. Usage: node with_headroom.mjs PROXY_URL UPSTREAM_URL TOOL_OUTPUT_FILE
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import { withHeadroom } from "headroom-ai/openai";
import { HeadroomClient } from "headroom-ai";

const [proxy, upstream, toolFile] = process.argv.slice(2);
const toolOutput = readFileSync(toolFile, "utf8");
const openai = new OpenAI({ baseURL: upstream + "/v1", apiKey: "sk-ts-client", maxRetries: 0 });
// fallback: false — a proxy failure must fail this script, not silently skip compression.
const client = withHeadroom(openai, { baseUrl: proxy, fallback: false, retries: 0 });
const completion = await client.chat.completions.create({
  model: "gpt-4o",
  messages: [
    { role: "user", content: "Why did the build fail?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "cargo_build", arguments: "{}" } }],
    },
    { role: "tool", tool_call_id: "call_1", content: toolOutput },
  ],
});
const sdk = new HeadroomClient({ baseUrl: proxy, fallback: false });
const health = await sdk.health();
const stats = await sdk.getStats();
console.log(JSON.stringify({ content: completion.choices[0].message.content, health, stats }));
