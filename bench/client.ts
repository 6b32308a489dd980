// The one S3 client every system is measured with: keep-alive agent, path style, checksums only when required,
// no retries, so the client is identical and never the bottleneck.
import { S3Client } from '@aws-sdk/client-s3';
import { Agent } from 'node:http';

export interface Endpoint {
  readonly url: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export function benchClient(endpoint: Endpoint, maxSockets = 64): S3Client {
  return new S3Client({
    endpoint: endpoint.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets }), requestTimeout: 600_000 },
  });
}
