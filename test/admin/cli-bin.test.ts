// The `sealstore` bin as npm installs it: node bin/sealstore.js, run through tsx, exit codes as documented.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { EmbeddedTarget } from '../support/embedded-target';
import { startAdminTarget } from './helpers';

const BIN = join(__dirname, '..', '..', 'bin', 'sealstore.js');

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('sealstore bin', () => {
  let target: EmbeddedTarget;
  beforeAll(async () => {
    target = await startAdminTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('lists keys as a table against a running store, with credentials from the AWS variables', async () => {
    // A data directory with no root credentials file, so that the AWS variables are the credentials wherever this runs.
    const env = {
      SEALSTORE_ENDPOINT: target.url,
      SEALSTORE_DATA_DIR: join(target.dataDir, 'no-such-dir'),
      AWS_ACCESS_KEY_ID: target.creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: target.creds.secretAccessKey,
    };
    const ok = await run(['keys', 'ls'], env);
    expect(ok.stderr).toBe(`sealstore: using access key ${target.creds.accessKeyId} from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, endpoint ${target.url}\n`);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/alias\/sealstore-default\s+active\s+Enabled/);
    const usage = await run(['keys'], env);
    expect(usage.code).toBe(2);
    const denied = await run(['keys', 'ls'], { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/SignatureDoesNotMatch/);
  }, 60_000);
});
