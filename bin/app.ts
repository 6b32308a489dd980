#!/usr/bin/env node
// The CDK app: one sealstore stack configured from context, checked by cdk-nag's AwsSolutions rules at synth.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONTEXT_KEYS, flag, stackNameFromContext, stackPropsFromContext } from '../lib/context';
import { SealstoreStack } from '../lib/sealstore-stack';

const app = new App();
new SealstoreStack(app, stackNameFromContext(app.node), {
  ...stackPropsFromContext(app.node),
  description: 'sealstore: S3-compatible object store, every object under its own KMS data key',
  // No `env`: the template is environment-agnostic (account and region resolve at deploy time), so synth needs
  // no account, no credentials and no lookups, and one template deploys anywhere.
});
// An unsuppressed AwsSolutions error fails the synth; every suppression in lib/ carries its reason.
if (flag(app.node, CONTEXT_KEYS.nag) !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
