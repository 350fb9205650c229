import { CarError, messageOf, type CarErrorCode } from "../errors.ts";

/** JSON-RPC error codes: the 2.0 standard ones and CAR's (reference §1.4). */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  Internal: -32603,
  AuthRequired: -32001,
  ApprovalDenied: -32003,
  DeadlineExceeded: -32004,
  HandshakeRequired: -32005,
  VersionMismatch: -32006,
  ContentRefused: -32007,
} as const;
export type RpcCode = (typeof RpcCode)[keyof typeof RpcCode];

/** The `error` member of a JSON-RPC response. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

const CAR_CODE_OF: Record<number, CarErrorCode> = {
  [RpcCode.ParseError]: "invalid_input",
  [RpcCode.InvalidRequest]: "invalid_input",
  [RpcCode.MethodNotFound]: "not_found",
  [RpcCode.InvalidParams]: "invalid_input",
  [RpcCode.AuthRequired]: "auth_required",
  [RpcCode.DeadlineExceeded]: "timeout",
  [RpcCode.HandshakeRequired]: "unsupported",
  [RpcCode.VersionMismatch]: "unsupported",
};

/**
 * An error with an explicit JSON-RPC code. Raised by the protocol layer, and by clients when the
 * daemon answers with an error (`rpcCode`, `data` as received).
 */
export class RpcError extends CarError {
  readonly rpcCode: number;
  readonly data: unknown;
  constructor(rpcCode: number, message: string, data?: unknown, component = "protocol") {
    super(CAR_CODE_OF[rpcCode] ?? "internal", component, message, data === undefined ? undefined : { data });
    this.name = "RpcError";
    this.rpcCode = rpcCode;
    this.data = data;
  }

  /** The wire form of this error. */
  toObject(): RpcErrorObject {
    return { code: this.rpcCode, message: messageOf(this), ...(this.data === undefined ? {} : { data: this.data }) };
  }
}

/** Which JSON-RPC code a CarError code travels as (anything unlisted is -32603). */
const RPC_CODE_OF: Partial<Record<CarErrorCode, RpcCode>> = {
  invalid_input: RpcCode.InvalidParams,
  invalid_proposal: RpcCode.InvalidParams,
  auth_required: RpcCode.AuthRequired,
};

/** Maps any thrown value to the `error` member of a response. */
export function toRpcErrorObject(err: unknown): RpcErrorObject {
  if (err instanceof RpcError) return err.toObject();
  if (err instanceof CarError) {
    const code = RPC_CODE_OF[err.code] ?? RpcCode.Internal;
    return { code, message: messageOf(err), data: { car_code: err.code, component: err.component, ...(err.details ?? {}) } };
  }
  return { code: RpcCode.Internal, message: messageOf(err) };
}
