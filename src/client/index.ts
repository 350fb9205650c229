export * from "./rpc-client.ts";
export * from "./car-client.ts";
export { RpcError, RpcCode, type RpcErrorObject } from "../protocol/errors.ts";
export type { ToolsExecuteParams, ToolsCancelParams } from "../protocol/callbacks.ts";
export type { Encoding } from "../protocol/codec.ts";
export type * from "./inference.ts";
