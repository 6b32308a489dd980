// Preloaded into a server process (node --require) to stage what a newcomer meets when better-sqlite3's native
// module did not build or was built for another Node.js: `bindings` throws what it or Node's dlopen throws then.
// SEALSTORE_TEST_NATIVE_FAULT picks the failure: 'missing' or 'version'.
import Module from 'node:module';
import { join } from 'node:path';

const BINARY = join(__dirname, '../../node_modules/better-sqlite3/build/Release/better_sqlite3.node');

/** The errors as Node 20 and the `bindings` package word them. */
function fault(kind: string | undefined): Error {
  if (kind === 'version') {
    const e = new Error(
      `The module '${BINARY}'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 108. This version of Node.js requires\nNODE_MODULE_VERSION ${process.versions.modules}. Please try re-compiling or re-installing\nthe module (for instance, using \`npm rebuild\` or \`npm install\`).`,
    );
    return Object.assign(e, { code: 'ERR_DLOPEN_FAILED' });
  }
  return new Error(`Could not locate the bindings file. Tried:\n → ${BINARY}\n → ${BINARY.replace('Release', 'Debug')}`);
}

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const original = loader._load;
loader._load = function load(request, parent, isMain) {
  if (request === 'bindings') {
    return () => {
      throw fault(process.env['SEALSTORE_TEST_NATIVE_FAULT']);
    };
  }
  return original.call(this, request, parent, isMain);
};
