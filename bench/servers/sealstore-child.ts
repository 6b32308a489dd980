// A sealstore embedded server in its own process, for the benchmark: prints {"url","pid"} once listening, and
// answers a "stats" message on its IPC channel with the syncs and index commits it has made so far.
// BENCH_DATA_DIR, BENCH_ACCESS_KEY_ID and BENCH_SECRET_ACCESS_KEY come from the parent.
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { startServer } from '../../local/server';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment variable ${name}`);
  return value;
}

async function main(): Promise<void> {
  const backend = await openEmbeddedBackend(required('BENCH_DATA_DIR'));
  const server = await startServer({
    backend,
    credentials: { accessKeyId: required('BENCH_ACCESS_KEY_ID'), secretAccessKey: required('BENCH_SECRET_ACCESS_KEY') },
  });
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('message', (message: unknown) => {
    if (message !== 'stats') return;
    const blobs = backend.blobs.syncStats();
    const index = backend.index.writerStats();
    process.send?.({ blobFileSyncs: blobs.fileSyncs, blobDirectorySyncs: blobs.directorySyncs, indexCommits: index.commits, indexTransactions: index.transactions });
  });
  process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
