import { decode, encode } from "@msgpack/msgpack";
import { RpcCode, RpcError } from "./errors.ts";

/** Text frames carry JSON; binary frames carry the same envelope as MessagePack. */
export type Encoding = "json" | "msgpack";

/** What a WebSocket carries: text or bytes. */
export type FrameData = string | Uint8Array;

/** What transports hand over for one received frame. */
export type RawFrame = string | ArrayBuffer | ArrayBufferView;

const encoder = new TextEncoder();

/** Whether a frame's payload is larger than `limit` bytes (text counts as UTF-8), without encoding it. */
export function frameExceeds(data: RawFrame, limit: number): boolean {
  if (typeof data !== "string") return data.byteLength > limit;
  // UTF-8 takes 1 to 3 bytes per UTF-16 code unit, so most frames are decided without counting.
  if (data.length > limit) return true;
  if (data.length * 3 <= limit) return false;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    // A surrogate pair (two code units) is 4 bytes.
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
    if (n > limit) return true;
  }
  return false;
}

function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** Decodes one frame. Throws an RpcError -32700 when the payload is not JSON / MessagePack. */
export function decodeFrame(data: RawFrame): { encoding: Encoding; value: unknown } {
  if (typeof data === "string") {
    try {
      return { encoding: "json", value: JSON.parse(data) };
    } catch (err) {
      throw new RpcError(RpcCode.ParseError, `parse error: text frame is not JSON (${(err as Error).message})`);
    }
  }
  try {
    return { encoding: "msgpack", value: decode(toBytes(data)) };
  } catch (err) {
    throw new RpcError(RpcCode.ParseError, `parse error: binary frame is not MessagePack (${(err as Error).message})`);
  }
}

/** Encodes one envelope in the given encoding. Throws when the value cannot be encoded (cycles, BigInt…). */
export function encodeFrame(value: unknown, encoding: Encoding): FrameData {
  if (encoding === "json") return JSON.stringify(value);
  return encode(value, { ignoreUndefined: true });
}

/** UTF-8 bytes of a string (for HTTP bodies). */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
