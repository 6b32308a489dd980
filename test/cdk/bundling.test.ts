// Specification of the one real bundle: esbuild (no Docker) turns both handlers into minified CJS with source maps.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SealstoreStack } from '../../lib/sealstore-stack';
import { PROJECT_ROOT } from '../../lib/sealstore-function';
import { CDK_CONTEXT, type Resource } from './synth';

const entries = ['lambdas/handlers/api.ts', 'lambdas/handlers/rotation.ts', 'lambdas/handlers/housekeeping.ts'];

describe('bundled functions', () => {
  // A renamed or moved handler must fail here (and in the synth below), never turn the bundle checks off.
  it.each(entries)('bundles %s, which exists', (entry) => {
    expect(fs.existsSync(path.join(PROJECT_ROOT, entry))).toBe(true);
  });

  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealstore-bundle-'));
  let template: Template;

  beforeAll(() => {
    const app = new App({ outdir, context: CDK_CONTEXT, builtinCloudFormationValidation: false, treeMetadata: false });
    template = Template.fromStack(new SealstoreStack(app, 'Sealstore'));
  }, 120_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const assetDir = (prefix: string): string => {
    const [, fn] = (Object.entries(template.findResources('AWS::Lambda::Function')) as Array<[string, Resource]>).find(([id]) => id.startsWith(prefix))!;
    const key = (fn.Properties['Code'] as { S3Key: string }).S3Key;
    return path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
  };

  it.each(['ApiFunction', 'RotationFunction', 'HousekeepingFunction'])('%s is a minified CommonJS bundle with a source map, exporting handler', (prefix) => {
    const dir = assetDir(prefix);
    expect(fs.readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    // Booleans, not toMatch: a failure must not print a megabyte of bundle.
    expect(/module\.exports/.test(code)).toBe(true);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true);
    // Minified: very long lines (only template literals keep their newlines).
    expect(Math.round(code.length / code.split('\n').length)).toBeGreaterThan(2000);
  });

  it('bundles the SDK v3 clients instead of relying on the runtime copy', () => {
    for (const prefix of ['ApiFunction', 'RotationFunction']) {
      const code = fs.readFileSync(path.join(assetDir(prefix), 'index.js'), 'utf8');
      // Only optional, try/catch-guarded requires (e.g. @aws-sdk/signature-v4-crt) may stay external.
      expect(/require\("@aws-sdk\/client-/.test(code)).toBe(false);
      expect(/require\("@smithy\//.test(code)).toBe(false);
      expect(code.includes('ReEncrypt')).toBe(true);
    }
  });

  it('keeps the API bundle under its 1 MB cold-start budget, and it imports with no network and no AWS call', () => {
    const file = path.join(assetDir('ApiFunction'), 'index.js');
    expect(fs.statSync(file).size).toBeLessThan(1_000_000);
    const env = {
      PATH: process.env['PATH'] ?? '',
      AWS_REGION: 'us-east-1',
      SEALSTORE_ROOT_CREDENTIALS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:root',
      SEALSTORE_TABLE_NAME: 'table',
      SEALSTORE_BLOB_BUCKET: 'bucket',
      SEALSTORE_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
      // Any attempt to reach AWS at import time would go here and fail loudly.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    };
    const r = spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(file)}); if (typeof m.handler !== 'function') process.exit(3);`], { env, encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr.slice(0, 500) }).toEqual({ status: 0, stderr: '' });
  });

  it('never pulls better-sqlite3 into the API bundle', () => {
    const code = fs.readFileSync(path.join(assetDir('ApiFunction'), 'index.js'), 'utf8');
    expect(/better-sqlite3|better_sqlite3/.test(code)).toBe(false);
  });
});
