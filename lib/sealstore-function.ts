// A least-privilege Lambda function: its own role (no managed policies), its own log group, and code either
// bundled from TypeScript by esbuild (locally, no Docker) or — for synth-only tests — an inline stub.
import * as path from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: NodejsFunction resolves entries, package-lock.json and node_modules from here. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface SealstoreFunctionProps {
  /** Handler module relative to PROJECT_ROOT (e.g. lambdas/handlers/api.ts); it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /**
   * false: an inline stub that throws, instead of the esbuild bundle. Synth-only tests use it to stay fast
   * and independent of the handlers' source; a stack synthesized this way must never be deployed.
   * @default true
   */
  readonly bundle?: boolean;
}

export class SealstoreFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SealstoreFunctionProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description}: only the calls its code makes`,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Instead of AWSLambdaBasicExecutionRole (CreateLogGroup, and any log group in the account): the two calls
    // the runtime makes, on this function's own log group.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const common = {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      // Graviton: cheaper per GB-second, and AES-GCM runs on the ARMv8 crypto extensions.
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    };

    if (props.bundle === false) {
      this.function = new lambda.Function(this, 'Function', {
        ...common,
        handler: 'index.handler',
        code: lambda.Code.fromInline(
          "exports.handler = async () => { throw new Error('sealstore: synthesized with sealstore:bundle=false; redeploy with bundling'); };",
        ),
      });
    } else {
      this.function = new NodejsFunction(this, 'Function', {
        ...common,
        entry: path.join(PROJECT_ROOT, props.entry),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
        bundling: {
          // esbuild from node_modules; never fall back to a Docker image (build machines have no Docker).
          forceDockerBundling: false,
          minify: true,
          sourceMap: true,
          target: 'node22',
          format: OutputFormat.CJS,
          // Prefer the SDK's ES module builds: esbuild can tree-shake them, which takes the API bundle from
          // ~1.01 MB to ~0.72 MB and its cold import well under budget.
          mainFields: ['module', 'main'],
          // Bundle the SDK v3 clients we tested against rather than the runtime's copy, whose version drifts.
          // better-sqlite3 is native code for the embedded backend; the Lambda handlers must never reach it,
          // and leaving it external turns an accidental import into a loud failure instead of a broken bundle.
          externalModules: ['better-sqlite3'],
        },
      });
    }
    // CDK makes the function DependsOn its role *and* the role's policy, so that no invocation runs before its
    // permissions exist. The role half repeats the Role GetAtt, which cfn-lint reports as W3005; the policy half
    // is what matters, so the duplicate stays and the warning is silenced on this resource only.
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
  }
}
