/** The daemon wire protocol version (`server.handshake`), independent of the package version. */
export const PROTOCOL_VERSION = 2;

/** This package's version, reported as `server_version` (a test keeps it equal to package.json's). */
export const SERVER_VERSION = "0.1.0";
