// The moto_server harness itself: found on PATH or in $PYENV_ROOT/shims, started on loopback, stopped cleanly.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { findMotoServer, motoUnavailable, startMoto } from '../support/moto';

/** The moto-related entries of the system temp folder (this run's and any other's). */
const motoTempDirs = () => readdirSync(tmpdir()).filter((name) => /^(sealstore-)?moto-/.test(name));

describe('findMotoServer', () => {
  // Every fixture lives under one directory, removed even when a case fails.
  let fixtures: string;
  beforeAll(() => {
    fixtures = mkdtempSync(join(tmpdir(), 'sealstore-moto-fixtures-'));
  });
  afterAll(() => {
    rmSync(fixtures, { recursive: true, force: true });
    expect(existsSync(fixtures)).toBe(false);
  });

  it('finds an executable moto_server on PATH', () => {
    const dir = mkdtempSync(join(fixtures, 'moto-path-'));
    writeFileSync(join(dir, 'moto_server'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findMotoServer({ PATH: `/nonexistent:${dir}` })).toBe(join(dir, 'moto_server'));
  });

  it('ignores a moto_server that is not executable', () => {
    const dir = mkdtempSync(join(fixtures, 'moto-noexec-'));
    writeFileSync(join(dir, 'moto_server'), '#!/bin/sh\n', { mode: 0o644 });
    expect(findMotoServer({ PATH: dir })).toBeUndefined();
  });

  it('finds it in $PYENV_ROOT/shims when PATH lacks it', () => {
    const root = mkdtempSync(join(fixtures, 'moto-pyenv-'));
    mkdirSync(join(root, 'shims'));
    writeFileSync(join(root, 'shims', 'moto_server'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findMotoServer({ PATH: '/nonexistent', PYENV_ROOT: root })).toBe(join(root, 'shims', 'moto_server'));
  });

  it('answers undefined when neither PATH nor $PYENV_ROOT/shims has it (no hard-coded path), so suites skip loudly', () => {
    expect(findMotoServer({ PATH: '' })).toBeUndefined();
    expect(findMotoServer({ PATH: '/nonexistent', PYENV_ROOT: '/nonexistent' })).toBeUndefined();
  });
});

describe('startMoto', () => {
  const unavailable = motoUnavailable();
  if (unavailable !== undefined) {
    console.warn(`startMoto SKIPPED: ${unavailable}`);
    it.skip(`skipped: ${unavailable}`, () => undefined);
    return;
  }

  it('serves on 127.0.0.1 and stops when asked', async () => {
    const moto = await startMoto();
    if (moto === undefined) throw new Error('moto_server vanished between lookup and start');
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${moto.endpoint}/moto-api/`)).ok).toBe(true);
    console.info(`moto_server answered after ${moto.startupMs} ms`);
    await moto.stop();
    await expect(fetch(`${moto.endpoint}/moto-api/`)).rejects.toThrow();
  });

  it('keeps moto_server\'s temp files in a directory of its own and removes it on stop', async () => {
    const moto = await startMoto();
    if (moto === undefined) throw new Error('moto_server vanished between lookup and start');
    const name = basename(moto.tempDir);
    try {
      expect(motoTempDirs()).toContain(name);
      // An S3 PUT large enough for moto to spool its body to a temp file.
      expect((await fetch(`${moto.endpoint}/harness-bucket`, { method: 'PUT' })).ok).toBe(true);
      expect((await fetch(`${moto.endpoint}/harness-bucket/big`, { method: 'PUT', body: new Uint8Array(8 * 1024 * 1024) })).ok).toBe(true);
    } finally {
      await moto.stop();
    }
    expect(motoTempDirs()).not.toContain(name);
  });
});
