import { RpcCode, type RpcErrorObject } from "./errors.ts";

/** A JSON-RPC id. `null` only appears in answers to requests whose id could not be read. */
export type RpcId = string | number | null;

/** A request (with `id`) or a notification (without). */
export interface RpcRequestMessage {
  jsonrpc: "2.0";
  id?: RpcId;
  method: string;
  params?: unknown;
}

/** A response: exactly one of `result` and `error`. */
export interface RpcResponseMessage {
  jsonrpc: "2.0";
  id: RpcId;
  result?: unknown;
  error?: RpcErrorObject;
}

export type RpcMessage = RpcRequestMessage | RpcResponseMessage;

/** What an incoming envelope turned out to be. */
export type Incoming =
  | { kind: "request"; id: string | number | null; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response"; id: string | number; result: unknown; error: RpcErrorObject | undefined }
  | { kind: "invalid"; id: RpcId; error: RpcErrorObject };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string | number => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

function invalid(id: RpcId, message: string): Incoming {
  return { kind: "invalid", id, error: { code: RpcCode.InvalidRequest, message: `invalid request: ${message}` } };
}

/** Classifies a decoded envelope; anything that is not valid JSON-RPC 2.0 becomes `invalid` with a -32600 error. */
export function classify(msg: unknown): Incoming {
  if (Array.isArray(msg)) return invalid(null, "batch requests are not supported; send one envelope per frame");
  if (!isObject(msg)) return invalid(null, `expected a JSON object, got ${msg === null ? "null" : typeof msg}`);
  const id: RpcId = isId(msg["id"]) ? msg["id"] : null;
  if (msg["jsonrpc"] !== "2.0") return invalid(id, `"jsonrpc" must be "2.0"`);
  if ("id" in msg && msg["id"] !== null && !isId(msg["id"])) return invalid(null, `"id" must be a string, a number or null`);
  if ("method" in msg) {
    if (typeof msg["method"] !== "string" || msg["method"] === "") return invalid(id, `"method" must be a non-empty string`);
    const params = msg["params"];
    if (params !== undefined && typeof params !== "object") return invalid(id, `"params" must be an object or an array`);
    if (!("id" in msg)) return { kind: "notification", method: msg["method"], params };
    return { kind: "request", id, method: msg["method"], params };
  }
  if ("result" in msg || "error" in msg) {
    if (!isId(msg["id"])) return invalid(null, "a response needs the id of the request it answers");
    const err = msg["error"];
    if (err !== undefined && err !== null) {
      if (!isObject(err) || typeof err["code"] !== "number" || typeof err["message"] !== "string") return invalid(msg["id"], `"error" must be {code, message, data?}`);
      return { kind: "response", id: msg["id"], result: undefined, error: { code: err["code"], message: err["message"], ...("data" in err ? { data: err["data"] } : {}) } };
    }
    return { kind: "response", id: msg["id"], result: msg["result"], error: undefined };
  }
  return invalid(id, `expected "method" (request) or "result"/"error" (response)`);
}

/** A success response. */
export function resultMessage(id: RpcId, result: unknown): RpcResponseMessage {
  return { jsonrpc: "2.0", id, result: result === undefined ? null : result };
}

/** An error response. */
export function errorMessage(id: RpcId, error: RpcErrorObject): RpcResponseMessage {
  return { jsonrpc: "2.0", id, error };
}

/** A request (`id` given) or a notification. */
export function requestMessage(method: string, params: unknown, id?: string | number): RpcRequestMessage {
  return { jsonrpc: "2.0", ...(id === undefined ? {} : { id }), method, ...(params === undefined ? {} : { params }) };
}
