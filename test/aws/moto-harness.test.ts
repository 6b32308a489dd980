// The moto_server harness itself: found on PATH or at the pyenv shim, started on loopback, stopped cleanly.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMotoServer, motoMissingReason, startMoto } from '../support/moto';

describe('findMotoServer', () => {
  it('finds an executable moto_server on PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moto-path-'));
    writeFileSync(join(dir, 'moto_server'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findMotoServer({ PATH: `/nonexistent:${dir}` }, '/nonexistent/shim')).toBe(join(dir, 'moto_server'));
  });

  it('ignores a moto_server that is not executable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moto-noexec-'));
    writeFileSync(join(dir, 'moto_server'), '#!/bin/sh\n', { mode: 0o644 });
    expect(findMotoServer({ PATH: dir }, '/nonexistent/shim')).toBeUndefined();
  });

  it('answers undefined when neither PATH nor the pyenv shim has it, so suites skip loudly', () => {
    expect(findMotoServer({ PATH: '' }, '/nonexistent/shim')).toBeUndefined();
  });
});

describe('startMoto', () => {
  if (findMotoServer() === undefined) {
    it.skip(motoMissingReason, () => undefined);
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
