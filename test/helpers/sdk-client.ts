/** The official SDK client with a token already in hand, answering sampling and elicitation like a host would. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface ConnectedClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** `data` of every notifications/message received. */
  logs: unknown[];
  /** Prompts of the sampling requests the client answered. */
  sampled: string[];
}

export async function connectClient(mcpUrl: string, token: string): Promise<ConnectedClient> {
  const client = new Client({ name: 'transports-test', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  const logs: unknown[] = [];
  const sampled: string[] = [];
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const content = request.params.messages[0]?.content as { text?: string } | undefined;
    sampled.push(content?.text ?? '');
    return { role: 'assistant', content: { type: 'text', text: 'an answer from the host' }, model: 'test-model', stopReason: 'endTurn' };
  });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { username: 'ada', email: 'ada@example.com' } }));
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(notification.params.data);
  });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return { client, transport, logs, sampled };
}

/** The text of a tool result's first content item. */
export function resultText(result: unknown): string {
  const [first] = (result as CallToolResult).content;
  return first?.type === 'text' ? first.text : '';
}

/** Whether a process is alive (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
