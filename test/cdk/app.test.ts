// Specification of the app as a whole: cdk-nag AwsSolutions clean (each acknowledgment reasoned), CDK's own
// CloudFormation validation clean, and cfn-lint clean on the synthesized template.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SealstoreStack, type SealstoreStackProps } from '../../lib/sealstore-stack';
import { cfnLintVersion, missingReason, warnIfMissing } from '../support/tools';
import { CDK_CONTEXT, synth } from './synth';

const VARIANTS: Array<[string, SealstoreStackProps]> = [
  ['defaults (server access logs)', {}],
  ['CloudTrail data events', { blobAccessLogging: 'cloudtrail-data-events' }],
  ['no blob access logging, no account logging role', { blobAccessLogging: 'none', manageApiGatewayAccountRole: false }],
  ['a brought CMK and a WAF web ACL', { existingKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', webAclArn: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/y' }],
];

describe('cdk-nag AwsSolutions', () => {
  it.each(VARIANTS)('reports no unacknowledged error or warning with %s', (_name, props) => {
    const { stack } = synth(props);
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('still finds violations when acknowledgments are missing (the check can fail)', () => {
    const { stack } = synth();
    // A bare bucket added to the stack, without acknowledgments, must be flagged.
    new s3.Bucket(stack, 'Unreviewed');
    const flagged = new AwsSolutionsChecks().validateScope(stack);
    expect(flagged.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  it('gives every acknowledgment a written reason', () => {
    const { stack } = synth({ blobAccessLogging: 'none' });
    const acks = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acks.length).toBeGreaterThanOrEqual(8);
    for (const [, reason] of acks) expect(reason.length).toBeGreaterThan(40);
  });
});

const cfnLint = cfnLintVersion();
const CFN_LINT_MISSING = `${missingReason('cfn-lint --version', 'cfn-lint')}; pip install cfn-lint to run it`;
warnIfMissing(cfnLint, 'cfn-lint check', 'cfn-lint --version', 'cfn-lint');

describe('the synthesized app', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealstore-cdk-'));
  let templatePath = '';
  let stack: SealstoreStack;

  beforeAll(() => {
    // As `cdk synth` runs it: CDK's built-in CloudFormation validation on, the nag pack as a validation plugin.
    const app = new App({ outdir, context: CDK_CONTEXT });
    stack = new SealstoreStack(app, 'Sealstore', { bundle: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    templatePath = path.join(assembly.directory, assembly.getStackByName('Sealstore').templateFile);
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes with validation plugins on, and CDK annotates no warning or error', () => {
    expect(fs.existsSync(templatePath)).toBe(true);
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  (cfnLint ? it : it.skip)(`passes cfn-lint${cfnLint ? ` (${cfnLint})` : ` — skipped: ${CFN_LINT_MISSING}`}`, () => {
    const run = spawnSync('cfn-lint', ['--', templatePath], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: run.status, output: `${run.stdout}${run.stderr}` }).toEqual({ status: 0, output: '' });
  });
});
