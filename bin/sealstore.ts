// `npx sealstore …`: the admin CLI entry point (the logic lives in sealstore-cli.ts so tests can run it in-process).
import { main } from './sealstore-cli';

// Never rejects: runCli turns every failure into a message and an exit code.
void main();
