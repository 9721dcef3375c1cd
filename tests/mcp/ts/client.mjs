// The official TypeScript MCP SDK's client for tests/serve_mcp.rs:
// `node client.mjs URL TOKEN` lists the tools, calls refund_order({order_id: "T-1", amount: 15})
// and refund_order({order_id: "T-2", amount: 5000}), and prints one JSON line per answer.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "intent-ts-test", version: "1.0.0" });
await client.connect(transport);
const tools = await client.listTools();
console.log(JSON.stringify({ tools: tools.tools.map((t) => t.name).sort() }));
for (const amount of [15, 5000]) {
  const r = await client.callTool({ name: "refund_order", arguments: { order_id: `T-${amount}`, amount } });
  const text = r.content.map((c) => c.text ?? "").join(" ");
  console.log(JSON.stringify({ is_error: !!r.isError, text, structured: r.structuredContent ?? null }));
}
await client.close();
