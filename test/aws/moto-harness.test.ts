// The moto_server harness itself: found on PATH or in $PYENV_ROOT/shims, started on loopback, stopped cleanly.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMotoServer, motoUnavailable, startMoto } from '../support/moto';

describe('findMotoServer', () => {
  it('finds an executable moto_server on PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moto-path-'));
    writeFileSync(join(dir, 'moto_server'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findMotoServer({ PATH: `/nonexistent:${dir}` })).toBe(join(dir, 'moto_server'));
  });

  it('ignores a moto_server that is not executable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moto-noexec-'));
    writeFileSync(join(dir, 'moto_server'), '#!/bin/sh\n', { mode: 0o644 });
    expect(findMotoServer({ PATH: dir })).toBeUndefined();
  });

  it('finds it in $PYENV_ROOT/shims when PATH lacks it', () => {
    const root = mkdtempSync(join(tmpdir(), 'moto-pyenv-'));
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
});
