// Test helper: synthesizes a SealstoreStack with the app's feature flags and stub code (no esbuild), once per call.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SealstoreStack, type SealstoreStackProps } from '../../lib/sealstore-stack';

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as { context: Record<string, unknown> };

export interface Synthesized {
  readonly app: App;
  readonly stack: SealstoreStack;
  readonly template: Template;
}

/** The feature flags `cdk synth` uses (cdk.json), so tests see the template users deploy. */
export const CDK_CONTEXT = cdkJson.context;

/**
 * Where this test file's synths write their cloud assemblies: one directory, removed after the file's tests. An App
 * without an outdir makes a fresh `cdk.out*` in the system temp folder for every synth and never removes it.
 */
const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sealstore-synth-'));
// Registered as the module loads (at a test file's top level): jest refuses hooks defined inside a running test.
afterAll(() => fs.rmSync(outRoot, { recursive: true, force: true }));
function outdirForThisFile(): string {
  return fs.mkdtempSync(path.join(outRoot, 'out-'));
}

/**
 * CDK's built-in CloudFormation schema validation costs ~8 s per test file on first use; the unit tests skip
 * it, and app.test.ts runs the app once with it on (as `cdk synth` does).
 */
export function synth(props: SealstoreStackProps = {}, context: Record<string, unknown> = {}): Synthesized {
  const app = new App({ outdir: outdirForThisFile(), context: { ...cdkJson.context, ...context }, builtinCloudFormationValidation: false, treeMetadata: false });
  const stack = new SealstoreStack(app, 'Sealstore', { bundle: false, ...props });
  return { app, stack, template: Template.fromStack(stack) };
}

export type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };

/** The single resource of `type`, failing loudly if there are none or several. */
export function only(template: Template, type: string): [string, Resource] {
  const found = Object.entries(template.findResources(type)) as Array<[string, Resource]>;
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
