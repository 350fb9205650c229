export * from "./types.ts";
export { verify, verifyPrepared } from "./verify.ts";
export { prepareForVerify, type PreparedForVerify } from "./prepare.ts";
export * from "./simulate.ts";
export * from "./optimize.ts";
