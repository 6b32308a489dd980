// The Lambda streaming wrapper: headers first, the body piped through, and work queued behind the answer run
// before the invocation ends (a frozen container would leave it undone). The runtime is a stand-in for the
// `awslambda` global, which only the Lambda service provides.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { streamingHandler, type LambdaStreamingRuntime } from '../../lambdas/handlers/api-handler';

describe('streamingHandler', () => {
  it('streams the answer, then runs afterResponse before the invocation resolves', async () => {
    const events: string[] = [];
    let metadata: { statusCode: number; headers: Record<string, string> } | undefined;
    const runtime: LambdaStreamingRuntime = {
      streamifyResponse: (fn) => fn,
      HttpResponseStream: {
        from: (stream: Writable, meta) => {
          metadata = meta;
          return stream;
        },
      },
    };
    const invoke = streamingHandler(
      runtime,
      async () => ({ statusCode: 200, headers: { etag: '"x"' }, body: Readable.from([Buffer.from('hello '), Buffer.from('world')]) }),
      async () => {
        events.push('afterResponse');
      },
    ) as (event: APIGatewayProxyEvent, out: Writable) => Promise<void>;
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    out.on('end', () => events.push('body ended'));
    await invoke({} as APIGatewayProxyEvent, out);
    events.push('invocation resolved');
    expect(metadata).toEqual({ statusCode: 200, headers: { etag: '"x"' } });
    expect(Buffer.concat(chunks).toString()).toBe('hello world');
    expect(events).toEqual(['body ended', 'afterResponse', 'invocation resolved']);
  });
});
