// Outside tools a suite drives (the AWS CLI, boto3, curl, cfn-lint; moto_server is found in moto.ts): found once, and a missing one named loudly so the
// suite that needs it skips with its reason instead of passing.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, join, sep } from 'node:path';

const executable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const resolved = new Map<string, string>();

/**
 * The program behind `command` on PATH. A pyenv shim is resolved once (`pyenv which`) to the script it would run:
 * the shim costs one to two seconds of start-up per call on a loaded 2-core machine, and the AWS CLI suite makes
 * dozens of calls. Anything else, or a shim pyenv cannot resolve, is returned as found.
 */
export function resolveTool(command: string): string {
  const known = resolved.get(command);
  if (known !== undefined) return known;
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  let found = dirs.map((dir) => join(dir, command)).find(executable) ?? command;
  if (found.includes(`${sep}shims${sep}`)) {
    try {
      const real = execFileSync('pyenv', ['which', command], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 }).toString().trim();
      if (real !== '' && executable(real)) found = real;
    } catch {
      // not resolvable: the shim itself still works, only slower
    }
  }
  resolved.set(command, found);
  return found;
}

/** The tool's version line, or undefined when the command cannot run here. */
export function toolVersion(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(resolveTool(command), args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 }).toString().trim() || 'unknown';
  } catch {
    return undefined;
  }
}

export const awsCliVersion = (): string | undefined => toolVersion('aws', ['--version']);
export const boto3Version = (): string | undefined => toolVersion('python3', ['-c', 'import boto3; print(boto3.__version__)']);
export const curlVersion = (): string | undefined => toolVersion('curl', ['--version']);
export const cfnLintVersion = (): string | undefined => toolVersion('cfn-lint', ['--version']);

/** The reason a test skips when `probe` fails: for its title, so the skip reads the same in every report. */
export const missingReason = (probe: string, tool: string): string => `\`${probe}\` failed (${tool} is not installed)`;

/** Warns that `what` is skipped and why, when `version` says the tool is missing. */
export function warnIfMissing(version: string | undefined, what: string, probe: string, tool: string): void {
  if (!version) console.warn(`${what} SKIPPED: ${missingReason(probe, tool)}.`);
}

/**
 * An AWS CLI that sees only `home`: the given credentials, us-east-1, and the one config any endpoint other than AWS
 * needs (path-style addressing; SigV4, which CLI v1 does not use for presigning unless told). Nothing from the
 * user's ~/.aws or an instance profile leaks in.
 */
export async function isolatedAwsCliEnv(home: string, creds: { readonly accessKeyId: string; readonly secretAccessKey: string }): Promise<NodeJS.ProcessEnv> {
  const config = join(home, 'aws-config');
  await writeFile(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  signature_version = s3v4\n');
  return {
    PATH: process.env['PATH'],
    HOME: home,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
