/* global Buffer, console */
// A stand-in for the Node.js Lambda runtime (aws-lambda-nodejs-runtime-interface-client), run as the child
// process that hosts a bundle. It does what the real runtime does, in the same order:
//   1. installs the `awslambda` global (streamifyResponse marks a handler as streaming; HttpResponseStream.from
//      sets the integration content type and, before the first write, writes the JSON metadata prelude and then
//      8 NUL bytes) BEFORE the handler module is loaded;
//   2. loads $LAMBDA_TASK_ROOT/<module> and takes the export named by $_HANDLER ("index.handler");
//   3. polls the Runtime API ($AWS_LAMBDA_RUNTIME_API) for the next event; a streaming handler gets a response
//      stream that is an HTTP POST to /invocation/<id>/response (chunked, Lambda-Runtime-Function-Response-Mode:
//      streaming), whose write() — and only write(), as in the real runtime — runs the prelude hook; a buffered
//      handler's resolved value is POSTed as JSON; a failure goes to /invocation/<id>/error (or, once the stream
//      has started, to the error trailers).
// The test process serves the Runtime API (test/support/lambda-runtime.ts) and decodes what arrives.
'use strict';

const http = require('node:http');
const path = require('node:path');

const RUNTIME_API = process.env.AWS_LAMBDA_RUNTIME_API;
const [apiHost, apiPort] = RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(PRELUDE_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

globalThis.awslambda = {
  ...globalThis.awslambda,
  streamifyResponse: (handler) => {
    handler[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream,
};

function request(method, urlPath, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: apiHost, port: Number(apiPort), method, path: urlPath, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorPayload = (err) => ({
  errorType: (err && err.name) || 'Error',
  errorMessage: (err && err.message) || String(err),
  trace: err && err.stack ? String(err.stack).split('\n') : [],
});

function loadHandler() {
  const handlerString = process.env._HANDLER;
  const base = path.basename(handlerString);
  const moduleRoot = handlerString.substring(0, handlerString.indexOf(base));
  const match = /^([^.]*)\.(.*)$/.exec(base);
  if (!match) throw new Error(`Bad handler ${handlerString}`);
  const mod = require(path.resolve(process.env.LAMBDA_TASK_ROOT, moduleRoot, match[1]));
  const fn = match[2].split('.').reduce((o, k) => (o == null ? undefined : o[k]), mod);
  if (typeof fn !== 'function') throw new Error(`${handlerString} is undefined or not exported`);
  return fn;
}

/** The response stream the real runtime hands a streaming handler: an HTTP request to the Runtime API. */
function responseStream(requestId) {
  let started = false;
  let done;
  const rapidResponse = new Promise((resolve, reject) => (done = { resolve, reject }));
  const req = http.request(
    {
      host: apiHost,
      port: Number(apiPort),
      method: 'POST',
      path: `/2018-06-01/runtime/invocation/${requestId}/response`,
      agent: new http.Agent({ keepAlive: false }),
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        Trailer: ['Lambda-Runtime-Function-Error-Type', 'Lambda-Runtime-Function-Error-Body'],
        'Content-Type': 'application/octet-stream',
        'Transfer-Encoding': 'chunked',
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => done.resolve(res.statusCode));
    },
  );
  req.on('error', (e) => done.reject(e));
  req.setContentType = (contentType) => {
    if (started) throw new Error('Cannot set content-type, too late.');
    req.setHeader('Content-Type', contentType);
  };
  const origWrite = req.write.bind(req);
  req.write = (chunk, encoding, callback) => {
    let data = chunk;
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && !(chunk instanceof Uint8Array)) data = JSON.stringify(chunk);
    if (!started && typeof req._onBeforeFirstWrite === 'function') req._onBeforeFirstWrite((ch) => origWrite(ch));
    const ret = origWrite(data, encoding, callback);
    started = true;
    return ret;
  };
  const fail = (err) =>
    new Promise((resolve) => {
      const e = errorPayload(err);
      req.addTrailers({
        'Lambda-Runtime-Function-Error-Type': e.errorType,
        'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(e)).toString('base64'),
      });
      req.end(resolve);
    });
  return { stream: req, rapidResponse, fail };
}

async function main() {
  let handler;
  try {
    handler = loadHandler();
  } catch (e) {
    await request('POST', '/2018-06-01/runtime/init/error', { 'Content-Type': 'application/json' }, JSON.stringify(errorPayload(e)));
    process.exit(1);
  }
  for (;;) {
    const next = await request('GET', '/2018-06-01/runtime/invocation/next', {});
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    const event = JSON.parse(next.body.toString('utf8'));
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    if (handler[STREAMING] === 'response') {
      const { stream, rapidResponse, fail } = responseStream(requestId);
      try {
        const result = handler(event, stream, context);
        if (!result || typeof result.then !== 'function') throw new Error('Streaming does not support non-async handlers.');
        if ((await result) !== undefined) console.warn('Streaming handlers ignore return values.');
        await rapidResponse;
        if (!stream.writableFinished) throw new Error('Response stream is not finished.');
      } catch (e) {
        await fail(e);
      }
    } else {
      try {
        const result = await handler(event, context);
        await request('POST', `/2018-06-01/runtime/invocation/${requestId}/response`, { 'Content-Type': 'application/json' }, JSON.stringify(result ?? null));
      } catch (e) {
        await request('POST', `/2018-06-01/runtime/invocation/${requestId}/error`, { 'Content-Type': 'application/json' }, JSON.stringify(errorPayload(e)));
      }
    }
  }
}

main().catch((e) => {
  console.error('runtime stand-in failed', e);
  process.exit(2);
});
