// Specification of the LocalStack scripts where no LocalStack runs: they refuse with a clear message and exit 1.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '../..');

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('LocalStack scripts without LocalStack', () => {
  it.each([
    ['scripts/deploy-local.sh', 'deploy:local'],
    ['scripts/smoke-local.sh', 'smoke:local'],
  ])('%s exits 1 naming the endpoint it tried, before touching anything', async (script, name) => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const run = spawnSync('bash', [script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOCALSTACK_ENDPOINT: endpoint }, timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${name}: no LocalStack answers at ${endpoint}`);
    expect(run.stderr).toMatch(/docker run/);
    expect(run.stdout).not.toMatch(/cdklocal|Bootstrapping|round trip/);
  });
});
