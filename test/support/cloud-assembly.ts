// The stack as `cdk synth` builds it: esbuild bundles on, written to a cloud assembly on disk, read back as the
// template JSON plus each function's asset directory (what `cdk deploy` zips and uploads). Costs seconds: once per file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { SealstoreStack } from '../../lib/sealstore-stack';
import { CDK_CONTEXT } from '../cdk/synth';

export type CfnValue = unknown;

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, CfnValue>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

export interface BundledFunction {
  readonly logicalId: string;
  /** The template's Handler property, e.g. 'index.handler'. */
  readonly handler: string;
  readonly runtime: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** The directory the asset manifest says is this function's code. */
  readonly assetDir: string;
  readonly environment: Record<string, CfnValue>;
  /** The logical id of the function's role (from Role: Fn::GetAtt [role, Arn]). */
  readonly roleLogicalId: string;
}

export interface Assembly {
  readonly outdir: string;
  readonly template: CfnTemplate;
  /** By the construct id the logical id starts with: ApiFunction, RotationFunction, HousekeepingFunction. */
  readonly functions: Record<string, BundledFunction>;
  remove(): void;
}

interface AssetManifest {
  readonly files: Record<string, { source: { path: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }>;
}

export function synthBundled(stackName = 'Sealstore'): Assembly {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealstore-artifact-'));
  const app = new App({ outdir, context: CDK_CONTEXT, builtinCloudFormationValidation: false, treeMetadata: false });
  new SealstoreStack(app, stackName);
  const cloud = app.synth();
  const stack = cloud.getStackByName(stackName);
  const template = JSON.parse(fs.readFileSync(path.join(cloud.directory, stack.templateFile), 'utf8')) as CfnTemplate;
  const assets = JSON.parse(fs.readFileSync(path.join(cloud.directory, `${stackName}.assets.json`), 'utf8')) as AssetManifest;
  // objectKey (the template's Code.S3Key) → the directory the asset manifest packages into that zip.
  const byKey = new Map<string, string>();
  for (const file of Object.values(assets.files)) {
    for (const dest of Object.values(file.destinations)) byKey.set(dest.objectKey, path.join(cloud.directory, file.source.path));
  }
  const functions: Record<string, BundledFunction> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const p = resource.Properties ?? {};
    const key = (p['Code'] as { S3Key?: string }).S3Key;
    const assetDir = key === undefined ? undefined : byKey.get(key);
    if (assetDir === undefined || !fs.statSync(assetDir).isDirectory()) throw new Error(`${logicalId}: no asset directory for Code ${JSON.stringify(p['Code'])}`);
    const role = (p['Role'] as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (role === undefined) throw new Error(`${logicalId}: Role is not Fn::GetAtt of a role in this template`);
    const name = /^[A-Za-z]+Function/.exec(logicalId)?.[0] ?? logicalId;
    functions[name] = {
      logicalId,
      handler: String(p['Handler']),
      runtime: String(p['Runtime']),
      memorySize: Number(p['MemorySize'] ?? 128),
      timeoutSeconds: Number(p['Timeout'] ?? 3),
      assetDir,
      environment: ((p['Environment'] as { Variables?: Record<string, CfnValue> } | undefined)?.Variables ?? {}),
      roleLogicalId: role[0],
    };
  }
  return { outdir, template, functions, remove: () => fs.rmSync(outdir, { recursive: true, force: true }) };
}
