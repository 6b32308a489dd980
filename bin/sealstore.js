#!/usr/bin/env node
// Shim for the `sealstore` bin: runs the TypeScript CLI through tsx (no build step).
require('tsx/cjs');
require('./sealstore.ts');
