import { App } from 'aws-cdk-lib';
import { SealstoreStack } from '../../lib/sealstore-stack';
const ctx = require('../../cdk.json').context;
for (let i = 0; i < 3; i++) {
  const t0 = Date.now();
  const app = new App({ context: ctx });
  const stack = new SealstoreStack(app, 'S', { bundle: false });
  const t1 = Date.now();
  app.synth();
  console.log('construct', t1 - t0, 'synth', Date.now() - t1);
}
