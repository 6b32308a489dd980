// Per-frame GCM inputs: the counter nonce and the AAD binding a frame to its object, part, position and finality.
import { NONCE_SIZE } from './constants';
import type { FormatVersion } from './header';
import { encodeIdentity, type PartIdentity } from './identity';

const TWO_32 = 2 ** 32;

function writeU64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUInt32BE(Math.floor(value / TWO_32), offset);
  buffer.writeUInt32BE(value >>> 0, offset + 4);
}

/** nonce = 0x00000000 || u64 frameIndex. Unique per frame; the part key is unique per part (random salt). */
export function frameNonce(frameIndex: number): Buffer {
  const nonce = Buffer.alloc(NONCE_SIZE);
  writeU64(nonce, frameIndex, 4);
  return nonce;
}

/** Builds AAD = u8 version || bucket || objectId || u32 partNumber || u64 frameIndex || u8 final. */
export class FrameAad {
  private readonly prefix: Buffer;

  constructor(id: PartIdentity, version: FormatVersion) {
    this.prefix = Buffer.concat([Buffer.from([version]), encodeIdentity(id)]);
  }

  for(frameIndex: number, final: boolean): Buffer {
    const aad = Buffer.allocUnsafe(this.prefix.length + 9);
    this.prefix.copy(aad, 0);
    writeU64(aad, frameIndex, this.prefix.length);
    aad.writeUInt8(final ? 1 : 0, this.prefix.length + 8);
    return aad;
  }
}
