// s3rver (an unencrypted S3 emulator on the file system) in its own process, the benchmark's peer system.
// Prints {"url","pid"} once listening; BENCH_DATA_DIR is its store.
interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: { port: number; address: string; silent: boolean; directory: string }) => S3rverInstance;

// s3rver ships no type declarations; this is the slice of its API we use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as S3rverCtor;

async function main(): Promise<void> {
  const directory = process.env['BENCH_DATA_DIR'];
  if (!directory) throw new Error('missing environment variable BENCH_DATA_DIR');
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
